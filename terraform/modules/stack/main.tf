# One whole s3-triage deployment; every environment root is this module plus its provider,
# backend and settings.

module "audit" {
  source                 = "../audit"
  name_prefix            = var.name_prefix
  point_in_time_recovery = var.protect_data
  deletion_protection    = var.protect_data
  tags                   = var.tags
}

module "ingest" {
  source               = "../ingest"
  name_prefix          = var.name_prefix
  bucket_name          = var.bucket_name
  force_destroy        = !var.protect_data
  attach_bucket_policy = var.attach_bucket_policy
  infected_readers     = concat(var.quarantine_admin_role_arns, [for checker in module.compliance_checker : checker.role_arn])
  tags                 = var.tags
}

module "tiers" {
  source      = "../tiers"
  name_prefix = var.name_prefix
  tags        = var.tags
}

module "thumbnail" {
  source                  = "../thumbnail"
  name_prefix             = var.name_prefix
  environment             = var.environment
  package_path            = var.thumbnail_package_path
  log_retention_days      = var.log_retention_days
  bucket_arn              = module.ingest.bucket_arn
  audit_table_name        = module.audit.table_name
  audit_table_arn         = module.audit.table_arn
  notifications_topic_arn = module.audit.notifications_topic_arn
  tags                    = var.tags
}

module "extractor" {
  source                  = "../extractor"
  name_prefix             = var.name_prefix
  environment             = var.environment
  package_path            = var.extractor_package_path
  log_retention_days      = var.log_retention_days
  queue_arn               = module.tiers.extractor_queue_arn
  bucket_arn              = module.ingest.bucket_arn
  audit_table_name        = module.audit.table_name
  audit_table_arn         = module.audit.table_arn
  notifications_topic_arn = module.audit.notifications_topic_arn
  tags                    = var.tags
}

locals {
  # Every compliance checker and the content kinds it checks ([] for all). Adding a checker is
  # a module under workers/compliance/src/checker/ and one entry here.
  compliance_checkers = {
    content = []
    malware = []
    pii     = ["text", "pdf"]
  }
  signatures_prefix = "config/signatures/"
  signatures_dir    = coalesce(var.signatures_dir, "${path.module}/../../../workers/compliance/signatures")
}

# The malware checker's signature set, loaded at each cold start.
resource "aws_s3_object" "signatures" {
  for_each    = fileset(local.signatures_dir, "*.{hdb,hsb,ndb}")
  bucket      = module.ingest.bucket_name
  key         = "${local.signatures_prefix}${each.value}"
  source      = "${local.signatures_dir}/${each.value}"
  source_hash = filemd5("${local.signatures_dir}/${each.value}")
  tags        = var.tags
}

module "compliance_checker" {
  source                  = "../compliance-checker"
  for_each                = local.compliance_checkers
  checker                 = each.key
  content_kinds           = each.value
  checkers_json           = jsonencode(local.compliance_checkers)
  signatures_uri          = each.key == "malware" ? "s3://${module.ingest.bucket_name}/${local.signatures_prefix}" : null
  quarantine              = var.compliance_quarantine
  name_prefix             = var.name_prefix
  environment             = var.environment
  package_path            = var.compliance_checker_package_path
  log_retention_days      = var.log_retention_days
  compliance_topic_arn    = module.tiers.compliance_topic_arn
  bucket_arn              = module.ingest.bucket_arn
  audit_table_name        = module.audit.table_name
  audit_table_arn         = module.audit.table_arn
  notifications_topic_arn = module.audit.notifications_topic_arn
  tags                    = var.tags
  depends_on              = [aws_s3_object.signatures]
}

# Runs the content, malware and (for text) PII checks in the same pass as its hashing.
module "large_file" {
  source                  = "../large-file"
  signatures_uri          = "s3://${module.ingest.bucket_name}/${local.signatures_prefix}"
  name_prefix             = var.name_prefix
  environment             = var.environment
  image                   = var.large_file_image
  part_size               = var.large_file_part_size
  parallelism             = var.large_file_parallelism
  log_retention_days      = var.log_retention_days
  bucket_arn              = module.ingest.bucket_arn
  audit_table_name        = module.audit.table_name
  audit_table_arn         = module.audit.table_arn
  notifications_topic_arn = module.audit.notifications_topic_arn
  tags                    = var.tags
}

module "router" {
  source                   = "../router"
  name_prefix              = var.name_prefix
  environment              = var.environment
  package_path             = var.router_package_path
  log_retention_days       = var.log_retention_days
  routing_rules            = var.routing_rules
  ingest_queue_arn         = module.ingest.queue_arn
  audit_table_name         = module.audit.table_name
  audit_table_arn          = module.audit.table_arn
  notifications_topic_arn  = module.audit.notifications_topic_arn
  thumbnail_function_name  = module.thumbnail.function_name
  extractor_queue_url      = module.tiers.extractor_queue_url
  extractor_queue_arn      = module.tiers.extractor_queue_arn
  compliance_topic_arn     = module.tiers.compliance_topic_arn
  cluster_arn              = module.tiers.cluster_arn
  large_task_family        = module.large_file.task_family
  large_container_name     = module.large_file.container_name
  large_task_role_arns     = module.large_file.role_arns
  large_subnet_ids         = var.large_subnet_ids
  large_security_group_ids = var.large_security_group_ids
  tags                     = var.tags
}
