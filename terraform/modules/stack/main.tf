# One whole s3-triage deployment; every environment root is this module plus its provider,
# backend and tfvars.

module "encryption" {
  source      = "../encryption"
  name_prefix = var.name_prefix
  tags        = var.tags
}

module "audit" {
  source              = "../audit"
  name_prefix         = var.name_prefix
  kms_key_arn         = module.encryption.key_arn
  deletion_protection = var.protect_data
  tags                = var.tags
}

# Every function's sizing and the queue, concurrency and lease settings that follow from it.
module "sizing" {
  source    = "../sizing"
  functions = var.functions
}

module "ingest" {
  source                     = "../ingest"
  visibility_timeout_seconds = local.functions.router.queue_visibility_seconds
  name_prefix                = var.name_prefix
  bucket_name                = var.bucket_name
  event_path                 = var.event_path
  kms_key_arn                = module.encryption.key_arn
  reserved_prefix            = local.reserved_prefix
  processed_expiration_days  = var.processed_expiration_days
  force_destroy              = !var.protect_data
  attach_bucket_policy       = !var.emulated
  upload_prefix              = local.upload_prefix
  gate_policy_json           = module.bucket_gate[var.bucket_name].json
  watched_rule_arns          = [for source in module.existing_bucket_events : source.rule_arn]
  signature_writer_arns      = concat([data.aws_iam_session_context.deployer.issuer_arn], var.signature_writer_arns)
  tags                       = var.tags
}

# The buckets the stack watches but did not create: their uploads reach the ingest queue
# through EventBridge (their notification configurations stay their owners'), and so do the
# e-mail attachments written back into a bucket that keeps its own outputs.
module "existing_bucket_events" {
  source      = "../eventbridge-source"
  for_each    = var.existing_buckets
  rule_name   = "${var.name_prefix}-watch-${substr(sha1(each.key), 0, 12)}"
  bucket_name = each.key
  prefixes = concat(
    each.value.prefixes,
    each.value.outputs == "source" ? ["${local.reserved_prefix}attachments/"] : [],
  )
  ingest_queue = module.ingest.queue
  tags         = var.tags
}

# Every watched bucket's compliance gate: the stack attaches its own bucket's; another owner
# merges the statements (the output existing_bucket_policies) into the bucket's own policy.
module "bucket_gate" {
  source               = "../bucket-gate"
  for_each             = local.watched
  bucket_arn           = each.value.arn
  compliance_gate      = var.compliance_gate
  gated_prefixes       = local.compliance_prefixes[each.key]
  upload_prefixes      = each.value.prefixes
  uploads_only         = each.key == var.bucket_name
  reserved_prefix      = local.reserved_prefix
  verdict_tag          = local.verdict_tag
  pipeline_reader_arns = concat(local.worker_role_arns, local.verdict_writer_arns)
  verdict_writer_arns  = local.verdict_writer_arns
  # Batch Operations writes its reports in the stack's bucket.
  output_writer_arns = concat(
    local.worker_role_arns,
    local.verdict_writer_arns,
    each.key == var.bucket_name ? [module.batch_operations.role_arn] : [],
  )
  admin_role_arns = var.quarantine_admin_role_arns
}

# Whoever applies this (the role of the session, not the session) may update the signatures;
# nobody else may.
data "aws_caller_identity" "deployer" {}

data "aws_iam_session_context" "deployer" {
  arn = data.aws_caller_identity.deployer.arn
}

module "tiers" {
  source                               = "../tiers"
  extractor_visibility_timeout_seconds = local.functions.extractor.queue_visibility_seconds
  name_prefix                          = var.name_prefix
  kms_key_arn                          = module.encryption.key_arn
  tags                                 = var.tags
}

module "network" {
  source             = "../network"
  name_prefix        = var.name_prefix
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  kms_key_arn        = module.encryption.key_arn
  tags               = var.tags
}

locals {
  reserved_prefix = "processed/"
  upload_prefix   = "uploads/"
  functions       = module.sizing.functions
  # What every function and the task share.
  deployment = {
    name_prefix             = var.name_prefix
    environment             = var.environment
    audit_table_name        = module.audit.table_name
    audit_table_arn         = module.audit.table_arn
    audit_retention_days    = var.audit_retention_days
    notifications_topic_arn = module.audit.notifications_topic_arn
    kms_key_arn             = module.encryption.key_arn
    log_retention_days      = var.log_retention_days
    log_level               = var.log_level
    emulated                = var.emulated
    reserved_prefix         = local.reserved_prefix
    lambda_architecture     = var.lambda_architecture
  }
  # Every compliance checker and the content kinds it checks ([] for all). Every checker
  # judges by the bytes (PII reads whatever is text, whatever the key says), so all take
  # every kind. Adding a checker is a module under workers/compliance/src/checker/ and one
  # entry here.
  compliance_checkers = {
    content = []
    malware = []
    pii     = []
  }
  signatures_dir = coalesce(var.signatures_dir, "${path.module}/../../../workers/compliance/signatures")
  signatures_uri = "s3://${module.ingest.signatures_bucket_name}/"
  # The verdict tag vocabulary, from the file the checkers compile in.
  verdict_tags = jsondecode(file("${path.module}/../../../workers/compliance/verdict-tags.json"))[var.verdict_tags]
  verdict_tag = {
    key      = local.verdict_tags.key
    clean    = local.verdict_tags.values.CLEAN
    infected = local.verdict_tags.values.INFECTED
  }
  # The rules as the router reads them; the default is its built-in table (router/src/policy.rs).
  routing_rules = var.routing_rules == null ? [
    { name = "compliance", prefix = "uploads/compliance/", tier = "compliance" },
  ] : jsondecode(var.routing_rules)
  # Per watched bucket, the prefixes its rules (its own and the shared ones) send to the
  # compliance tier: what the fail-closed gate covers there.
  compliance_prefixes = { for bucket in keys(local.watched) : bucket => [
    for rule in local.routing_rules : rule.prefix
    if rule.tier == "compliance" && try(rule.bucket, bucket) == bucket
  ] }
  # Every watched bucket: the one this stack creates and those it was given.
  watched = merge(
    { (var.bucket_name) = {
      arn         = "arn:aws:s3:::${var.bucket_name}"
      prefixes    = [local.upload_prefix]
      kms_key_arn = null
      outputs     = "source"
    } },
    { for name, bucket in var.existing_buckets : name => {
      arn         = "arn:aws:s3:::${name}"
      prefixes    = bucket.prefixes
      kms_key_arn = bucket.kms_key_arn
      outputs     = bucket.outputs
    } },
  )
  # What the stages read and write over every watched bucket (modules/uploads-access): a
  # bucket keeping its outputs ("source") is written to; the others' go to this stack's bucket.
  storage = {
    source_bucket_arns = [for bucket in values(local.watched) : bucket.arn]
    output_bucket_arns = [for bucket in values(local.watched) : bucket.arn if bucket.outputs == "source"]
    read_key_arns      = distinct([for bucket in values(local.watched) : bucket.kms_key_arn if bucket.kms_key_arn != null])
    write_key_arns = distinct([
      for bucket in values(local.watched) : bucket.kms_key_arn
      if bucket.kms_key_arn != null && bucket.outputs == "source"
    ])
    output_buckets = join(",", [for name, bucket in local.watched : "${name}=${var.bucket_name}" if bucket.outputs == "stack"])
  }
  worker_role_arns    = [module.thumbnail.role_arn, module.extractor.role_arn]
  verdict_writer_arns = concat([for checker in module.compliance_checker : checker.role_arn], [module.large_file.task_role_arn])
}

module "thumbnail" {
  source       = "../thumbnail"
  deployment   = local.deployment
  package_path = var.thumbnail_package_path
  sizing       = local.functions.thumbnail
  fail_on      = var.thumbnail_fail_on
  storage      = local.storage
  tags         = var.tags
}

module "extractor" {
  source       = "../extractor"
  deployment   = local.deployment
  package_path = var.extractor_package_path
  sizing       = local.functions.extractor
  queue_arn    = module.tiers.extractor_queue_arn
  storage      = local.storage
  tags         = var.tags
}

# The malware checker's signature set, loaded at each cold start.
resource "aws_s3_object" "signatures" {
  for_each    = fileset(local.signatures_dir, "*.{hdb,hsb,ndb,ldb,cvd,cld}")
  bucket      = module.ingest.signatures_bucket_name
  key         = each.value
  source      = "${local.signatures_dir}/${each.value}"
  source_hash = filemd5("${local.signatures_dir}/${each.value}")
  tags        = var.tags
}

module "compliance_checker" {
  source                = "../compliance-checker"
  for_each              = local.compliance_checkers
  deployment            = local.deployment
  checker               = each.key
  content_kinds         = each.value
  checkers_json         = jsonencode(local.compliance_checkers)
  signatures_uri        = each.key == "malware" ? local.signatures_uri : null
  signatures_bucket_arn = module.ingest.signatures_bucket_arn
  verdict_tags          = var.verdict_tags
  quarantine            = var.compliance_quarantine
  package_path          = var.compliance_checker_package_path
  sizing                = local.functions.compliance
  compliance_topic_arn  = module.tiers.compliance_topic_arn
  storage               = local.storage
  tags                  = var.tags
  depends_on            = [aws_s3_object.signatures]
}

# Runs the content, malware and (for text) PII checks in the same pass as its hashing.
module "large_file" {
  source                = "../large-file"
  deployment            = local.deployment
  signatures_uri        = local.signatures_uri
  signatures_bucket_arn = module.ingest.signatures_bucket_arn
  quarantine            = var.compliance_quarantine
  verdict_tags          = var.verdict_tags
  image                 = var.large_file_image
  cpu                   = var.large_file.cpu
  memory                = var.large_file.memory
  part_size             = var.large_file.part_size
  parallelism           = var.large_file.parallelism
  architecture          = var.large_file.architecture
  queue                 = module.tiers.large_queue
  messages_per_task     = var.large_file.messages_per_task
  max_tasks             = var.large_file.max_tasks
  idle_seconds          = var.large_file.idle_seconds
  storage               = local.storage
  tags                  = var.tags
}

module "router" {
  source                   = "../router"
  deployment               = local.deployment
  package_path             = var.router_package_path
  sizing                   = local.functions.router
  routing_rules            = var.routing_rules
  ingest_queue_arn         = module.ingest.queue_arn
  source_bucket_arns       = local.storage.source_bucket_arns
  thumbnail_function_name  = module.thumbnail.function_name
  extractor_queue_url      = module.tiers.extractor_queue_url
  extractor_queue_arn      = module.tiers.extractor_queue_arn
  compliance_topic_arn     = module.tiers.compliance_topic_arn
  cluster_arn              = module.tiers.cluster_arn
  large_task_family        = module.large_file.task_family
  large_queue              = module.tiers.large_queue
  large_fleet              = module.large_file.fleet
  large_task_role_arns     = module.large_file.role_arns
  large_subnet_ids         = module.network.private_subnet_ids
  large_security_group_ids = [module.network.task_security_group_id]
  large_capacity           = var.large_file.capacity
  output_buckets           = local.storage.output_buckets
  tags                     = var.tags
}

locals {
  # How long after its claim a record can still be finished by a delivery of its own: until a
  # queue's last receive (visibility x maxReceiveCount) or the thumbnail invoke's maximum event
  # age, plus the lease that delivery waits out. The sweep ends only claims older than all of
  # them.
  redelivery_horizons = merge(
    {
      router       = module.ingest.queue.redelivery_horizon_seconds + local.functions.router.claim_lease_seconds
      thumbnail    = module.thumbnail.redelivery_horizon_seconds + local.functions.thumbnail.claim_lease_seconds
      extractor    = module.tiers.extractor_queue.redelivery_horizon_seconds + local.functions.extractor.claim_lease_seconds
      "large-file" = module.tiers.large_queue.redelivery_horizon_seconds + module.large_file.claim_lease_seconds
    },
    { for name, checker in module.compliance_checker : "check-${name}" => checker.queue.redelivery_horizon_seconds + local.functions.compliance.claim_lease_seconds },
  )
}

module "sweeper" {
  source       = "../sweeper"
  deployment   = local.deployment
  package_path = var.sweeper_package_path
  sizing       = local.functions.sweeper
  # A quarter of an hour past the last horizon: the delivery that comes last finishes first.
  abandoned_after_seconds = max(values(local.redelivery_horizons)...) + 900
  tags                    = var.tags
}

# A selftest of every tier on a schedule, alarmed on when it misses or stops reporting.
module "canary" {
  source         = "../canary"
  count          = var.canary_schedule == null ? 0 : 1
  deployment     = local.deployment
  package_path   = var.canary_package_path
  bucket_name    = module.ingest.bucket_name
  bucket_arn     = module.ingest.bucket_arn
  routing_rules  = var.routing_rules
  output_buckets = local.storage.output_buckets
  verdict_tags   = var.verdict_tags
  schedule       = var.canary_schedule
  tags           = var.tags
}

# `triage backfill --batch-operations`: the role S3 Batch Operations jobs run as.
module "batch_operations" {
  source                  = "../batch-operations"
  name_prefix             = var.name_prefix
  router_function_arn     = module.router.function_arn
  uploads_bucket_arn      = module.ingest.bucket_arn
  source_bucket_arns      = local.storage.source_bucket_arns
  report_prefix           = "${local.reserved_prefix}batch-operations/"
  inventory_manifest_arns = var.inventory_manifest_arns
  kms_key_arn             = module.encryption.key_arn
  tags                    = var.tags
}

# Only the router dispatches to the compliance topic (a forged dispatch would pre-empt the real
# checks); only the pipeline announces outcomes.
module "compliance_topic_policy" {
  source         = "../publish-only"
  topic_arn      = module.tiers.compliance_topic_arn
  publisher_arns = [module.router.role_arn]
}

module "notifications_topic_policy" {
  source         = "../publish-only"
  topic_arn      = module.audit.notifications_topic_arn
  publisher_arns = concat([module.router.role_arn, module.sweeper.role_arn], local.worker_role_arns, local.verdict_writer_arns)
}

module "subscribers" {
  source      = "../subscribers"
  name_prefix = var.name_prefix
  topic_arn   = module.audit.notifications_topic_arn
  kms_key_arn = module.encryption.key_arn
  subscribers = var.notification_subscribers
  tags        = var.tags
}

module "operations" {
  source       = "../operations"
  name_prefix  = var.name_prefix
  environment  = var.environment
  kms_key_arn  = module.encryption.key_arn
  alarm_emails = var.alarm_emails
  thresholds   = var.alarm_thresholds
  functions = merge(
    {
      router    = module.router.function_name
      thumbnail = module.thumbnail.function_name
      extractor = module.extractor.function_name
      sweeper   = module.sweeper.function_name
    },
    { for name, checker in module.compliance_checker : "check-${name}" => checker.function_name },
    { for canary in module.canary : "canary" => canary.function_name },
  )
  canary_period_seconds = one(module.canary[*].period_seconds)
  ingest_queue          = module.ingest.queue.name
  work_queues = merge(
    {
      ingest    = module.ingest.queue.name
      extractor = module.tiers.extractor_queue.name
      large     = module.tiers.large_queue.name
    },
    { for name, checker in module.compliance_checker : "check-${name}" => checker.queue.name },
  )
  dead_letter_queues = merge(
    {
      ingest    = module.ingest.queue.dlq_name
      thumbnail = module.thumbnail.dlq_name
      extractor = module.tiers.extractor_queue.dlq_name
      large     = module.tiers.large_queue.dlq_name
    },
    { for name, checker in module.compliance_checker : "check-${name}" => checker.queue.dlq_name },
    { for name, subscriber in module.subscribers.subscribers : "subscriber-${name}" => subscriber.dlq_name },
  )
  cluster_arn          = module.tiers.cluster_arn
  large_file_log_group = module.large_file.log_group_name
  monthly_budget_usd   = var.monthly_budget_usd
  emulated             = var.emulated
  tags                 = var.tags
}
