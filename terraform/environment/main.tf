# The root module of every AWS environment (envs/dev, envs/staging, envs/prod link to these
# files; each keeps its own backend in versions.tf and its settings in terraform.tfvars).

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Environment = var.environment
      Project     = "s3-triage"
      Owner       = var.owner
    }
  }
}

module "stack" {
  source                          = "../../modules/stack"
  name_prefix                     = "s3-triage-${var.environment}"
  environment                     = var.environment
  bucket_name                     = var.bucket_name
  router_package_path             = var.router_package_path
  thumbnail_package_path          = var.thumbnail_package_path
  extractor_package_path          = var.extractor_package_path
  compliance_checker_package_path = var.compliance_checker_package_path
  sweeper_package_path            = var.sweeper_package_path
  canary_package_path             = var.canary_package_path
  canary_schedule                 = var.canary_schedule
  lambda_architecture             = var.lambda_architecture
  large_file_image                = var.large_file_image
  routing_rules                   = var.routing_rules
  functions                       = var.functions
  thumbnail_fail_on               = var.thumbnail_fail_on
  event_path                      = var.event_path
  existing_buckets                = var.existing_buckets
  notification_subscribers        = var.notification_subscribers
  large_file                      = var.large_file
  compliance_quarantine           = var.compliance_quarantine
  quarantine_admin_role_arns      = var.quarantine_admin_role_arns
  compliance_gate                 = var.compliance_gate
  verdict_tags                    = var.verdict_tags
  signature_writer_arns           = var.signature_writer_arns
  inventory_manifest_arns         = var.inventory_manifest_arns
  vpc_cidr                        = var.vpc_cidr
  availability_zones              = var.availability_zones
  protect_data                    = var.protect_data
  processed_expiration_days       = var.processed_expiration_days
  audit_retention_days            = var.audit_retention_days
  log_retention_days              = var.log_retention_days
  log_level                       = var.log_level
  alarm_emails                    = var.alarm_emails
  alarm_thresholds                = var.alarm_thresholds
  monthly_budget_usd              = var.monthly_budget_usd
}
