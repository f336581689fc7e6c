# Uploads land in the bucket; each ObjectCreated event under the upload prefix, or under the
# reserved prefix's attachments/ (e-mail attachments the extractor writes, which the router
# routes as their e-mail's uploads), goes to the ingest queue, which buffers it for the router
# and moves poison events to a DLQ.

resource "aws_s3_bucket" "uploads" {
  # checkov:skip=CKV_AWS_144:Cross-region replication doubles storage for inputs users still hold; versioning and the audit trail cover recovery. Add it where an account policy requires it.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_versioning" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "uploads" {
  bucket                  = aws_s3_bucket.uploads.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # One data key per object stream instead of a KMS call per request: cheaper, same security.
    bucket_key_enabled = true
  }
}

# Uploads stay until someone deletes them (they are the users' files); the outputs derived
# from them can be rebuilt, so they expire. Overwritten and deleted versions are kept long
# enough to recover from a mistake.
resource "aws_s3_bucket_lifecycle_configuration" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  rule {
    id     = "processed-outputs"
    status = "Enabled"
    filter {
      prefix = var.reserved_prefix
    }
    expiration {
      days = var.processed_expiration_days
    }
  }
  rule {
    id     = "old-versions-and-abandoned-uploads"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.uploads]
}

resource "aws_s3_bucket_logging" "uploads" {
  bucket        = aws_s3_bucket.uploads.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "uploads/"
  depends_on    = [aws_s3_bucket_policy.access_logs]
}

module "uploads_tls_only" {
  source     = "../tls-only"
  bucket_arn = aws_s3_bucket.uploads.arn
}

# TLS only, and the compliance gate (modules/bucket-gate, made in the stack for every watched
# bucket): verdict tags and what they let others read, outputs by the pipeline alone.
data "aws_iam_policy_document" "uploads" {
  source_policy_documents = [module.uploads_tls_only.json, var.gate_policy_json]
}

resource "aws_s3_bucket_policy" "uploads" {
  count      = var.attach_bucket_policy ? 1 : 0
  bucket     = aws_s3_bucket.uploads.id
  policy     = data.aws_iam_policy_document.uploads.json
  depends_on = [aws_s3_bucket_public_access_block.uploads]
}

module "queue" {
  source                     = "../queue"
  name                       = "${var.name_prefix}-ingest"
  visibility_timeout_seconds = var.visibility_timeout_seconds
  max_receive_count          = var.max_receive_count
  kms_key_arn                = var.kms_key_arn
  tags                       = var.tags
}

locals {
  via_eventbridge = var.event_path == "eventbridge"
  routed_prefixes = {
    router             = var.upload_prefix
    router-attachments = "${var.reserved_prefix}attachments/"
  }
  # Every EventBridge rule that puts events on the ingest queue: this bucket's (on the
  # EventBridge path) and those of the buckets the stack watches but did not create.
  eventbridge_rule_arns = concat(module.eventbridge[*].rule_arn, var.watched_rule_arns)
}

# Who may put events on the ingest queue, for which sources: S3 for this bucket (the S3 path),
# EventBridge for the rules above.
locals {
  senders = merge(
    local.via_eventbridge ? {} : { "s3.amazonaws.com" = [aws_s3_bucket.uploads.arn] },
    length(local.eventbridge_rule_arns) > 0 ? { "events.amazonaws.com" = local.eventbridge_rule_arns } : {},
  )
}

data "aws_iam_policy_document" "events_may_send" {
  dynamic "statement" {
    for_each = local.senders
    content {
      actions   = ["sqs:SendMessage"]
      resources = [module.queue.arn]
      principals {
        type        = "Service"
        identifiers = [statement.key]
      }
      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = statement.value
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }
}

resource "aws_sqs_queue_policy" "ingest" {
  queue_url = module.queue.url
  policy    = data.aws_iam_policy_document.events_may_send.json
}

# The S3 path: the bucket's notification configuration names the ingest queue. The EventBridge
# path: the bucket sends every event to EventBridge (its only notification setting), and a rule
# picks the uploads out.
resource "aws_s3_bucket_notification" "uploads" {
  bucket      = aws_s3_bucket.uploads.id
  eventbridge = local.via_eventbridge
  dynamic "queue" {
    for_each = local.via_eventbridge ? {} : local.routed_prefixes
    content {
      id            = queue.key
      queue_arn     = module.queue.arn
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = queue.value
    }
  }
  depends_on = [aws_sqs_queue_policy.ingest]
}

module "eventbridge" {
  source       = "../eventbridge-source"
  count        = local.via_eventbridge ? 1 : 0
  rule_name    = "${var.name_prefix}-uploads"
  bucket_name  = aws_s3_bucket.uploads.bucket
  prefixes     = values(local.routed_prefixes)
  ingest_queue = module.queue
  tags         = var.tags
}

data "aws_iam_policy_document" "events_may_dead_letter" {
  count = length(local.eventbridge_rule_arns) > 0 ? 1 : 0
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [module.queue.dlq_arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = local.eventbridge_rule_arns
    }
  }
}

resource "aws_sqs_queue_policy" "eventbridge_dead_letters" {
  count     = length(local.eventbridge_rule_arns) > 0 ? 1 : 0
  queue_url = module.queue.dlq_url
  policy    = data.aws_iam_policy_document.events_may_dead_letter[0].json
}
