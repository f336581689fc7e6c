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

# Objects a compliance verdict found INFECTED carry this tag (see workers/compliance
# quarantine.rs): nobody downloads them by accident, only the roles named may.
data "aws_iam_policy_document" "uploads" {
  source_policy_documents = [module.uploads_tls_only.json]
  statement {
    sid       = "DenyInfectedDownloads"
    effect    = "Deny"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.uploads.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "s3:ExistingObjectTag/s3-triage-verdict"
      values   = ["infected"]
    }
    dynamic "condition" {
      for_each = length(var.infected_readers) > 0 ? [1] : []
      content {
        test     = "ArnNotLike"
        variable = "aws:PrincipalArn"
        values   = var.infected_readers
      }
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

data "aws_iam_policy_document" "s3_may_send" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [module.queue.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.uploads.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "ingest" {
  queue_url = module.queue.url
  policy    = data.aws_iam_policy_document.s3_may_send.json
}

resource "aws_s3_bucket_notification" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  queue {
    id            = "router"
    queue_arn     = module.queue.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = var.upload_prefix
  }
  depends_on = [aws_sqs_queue_policy.ingest]
}
