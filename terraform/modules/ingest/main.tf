# Uploads land in the bucket; each ObjectCreated event under the upload prefix goes to the
# ingest queue, which buffers it for the router and moves poison events to a DLQ.

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

# The compliance gate (docs/compliance.md, "Who may do what"). Every verdict is written on the
# object as a tag (workers/compliance/src/quarantine.rs); only the pipeline and the named
# admins may write, change or remove that tag, and what the gate lets others read depends on
# it. Principals are named by role ARN: aws:PrincipalArn is the role of an assumed session.
locals {
  verdict_tag        = "s3:ExistingObjectTag/${var.verdict_tag.key}"
  verdict_writers    = concat(var.verdict_writer_arns, var.admin_role_arns)
  unscanned_readers  = concat(var.pipeline_reader_arns, var.admin_role_arns)
  infected_readers   = concat(var.verdict_writer_arns, var.admin_role_arns)
  gated_object_arns  = [for prefix in var.gated_prefixes : "${aws_s3_bucket.uploads.arn}/${prefix}*"]
  upload_object_arns = ["${aws_s3_bucket.uploads.arn}/${var.upload_prefix}*"]
}

data "aws_iam_policy_document" "uploads" {
  source_policy_documents = [module.uploads_tls_only.json]

  # fail-closed: under the compliance-routed prefixes, nothing is read before its verdict is
  # clean, so a file is never downloadable while its checks run or if one lands in a DLQ.
  dynamic "statement" {
    for_each = var.compliance_gate == "fail-closed" && length(var.gated_prefixes) > 0 ? [1] : []
    content {
      sid       = "DenyReadsUntilClean"
      effect    = "Deny"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = local.gated_object_arns
      principals {
        type        = "*"
        identifiers = ["*"]
      }
      condition {
        test     = "StringNotEquals"
        variable = local.verdict_tag
        values   = [var.verdict_tag.clean]
      }
      condition {
        test     = "ArnNotLike"
        variable = "aws:PrincipalArn"
        values   = local.unscanned_readers
      }
    }
  }

  # Both modes: an infected object, anywhere in the bucket, is read by nobody but the verdict
  # writers (a quarantine copy may be retried) and the admins.
  statement {
    sid       = "DenyInfectedReads"
    effect    = "Deny"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.uploads.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = local.verdict_tag
      values   = [var.verdict_tag.infected]
    }
    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = local.infected_readers
    }
  }

  # Whoever may tag on upload must not lift a quarantine: the tags of an object that has a
  # verdict are changed or removed by the verdict writers and admins only.
  statement {
    sid    = "DenyVerdictTagChanges"
    effect = "Deny"
    actions = [
      "s3:PutObjectTagging",
      "s3:PutObjectVersionTagging",
      "s3:DeleteObjectTagging",
      "s3:DeleteObjectVersionTagging",
    ]
    resources = ["${aws_s3_bucket.uploads.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Null"
      variable = local.verdict_tag
      values   = ["false"]
    }
    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = local.verdict_writers
    }
  }

  # ...nor forge one: no upload or tagging request may set the verdict's tag key.
  statement {
    sid       = "DenyForgedVerdictTags"
    effect    = "Deny"
    actions   = ["s3:PutObject", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"]
    resources = ["${aws_s3_bucket.uploads.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "s3:RequestObjectTagKeys"
      values   = [var.verdict_tag.key]
    }
    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = local.verdict_writers
    }
  }

  # Outputs (thumbnails, text, manifests, quarantine copies) are written by the pipeline only:
  # everyone else uploads under the upload prefix or nowhere.
  statement {
    sid           = "DenyWritesOutsideUploads"
    effect        = "Deny"
    actions       = ["s3:PutObject"]
    not_resources = local.upload_object_arns
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = concat(var.output_writer_arns, var.admin_role_arns)
    }
  }
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
  # Who sends the bucket's ObjectCreated events to the ingest queue, and as what.
  via_eventbridge = var.event_path == "eventbridge"
  event_sender = local.via_eventbridge ? {
    service    = "events.amazonaws.com"
    source_arn = aws_cloudwatch_event_rule.uploads[0].arn
    } : {
    service    = "s3.amazonaws.com"
    source_arn = aws_s3_bucket.uploads.arn
  }
}

data "aws_iam_policy_document" "events_may_send" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [module.queue.arn]
    principals {
      type        = "Service"
      identifiers = [local.event_sender.service]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.event_sender.source_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
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
    for_each = local.via_eventbridge ? [] : [module.queue.arn]
    content {
      id            = "router"
      queue_arn     = queue.value
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = var.upload_prefix
    }
  }
  depends_on = [aws_sqs_queue_policy.ingest]
}

resource "aws_cloudwatch_event_rule" "uploads" {
  count       = local.via_eventbridge ? 1 : 0
  name        = "${var.name_prefix}-uploads"
  description = "Objects created under ${var.upload_prefix} in ${aws_s3_bucket.uploads.bucket}, for the router."
  event_pattern = jsonencode({
    source      = ["aws.s3"]
    detail-type = ["Object Created"]
    detail = {
      bucket = { name = [aws_s3_bucket.uploads.bucket] }
      object = { key = [{ prefix = var.upload_prefix }] }
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "uploads" {
  count = local.via_eventbridge ? 1 : 0
  rule  = aws_cloudwatch_event_rule.uploads[0].name
  arn   = module.queue.arn
  # EventBridge retries a queue it cannot reach for a day, then keeps the event in the DLQ the
  # router's poison messages go to, where `triage dlq --redrive` finds both.
  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }
  dead_letter_config {
    arn = module.queue.dlq_arn
  }
}

data "aws_iam_policy_document" "events_may_dead_letter" {
  count = local.via_eventbridge ? 1 : 0
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
      values   = [aws_cloudwatch_event_rule.uploads[0].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "eventbridge_dead_letters" {
  count     = local.via_eventbridge ? 1 : 0
  queue_url = module.queue.dlq_url
  policy    = data.aws_iam_policy_document.events_may_dead_letter[0].json
}
