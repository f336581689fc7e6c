# Server access logs of the uploads and signatures buckets: who read, wrote or tagged which object, kept for
# audits beyond what the audit table records.

data "aws_caller_identity" "current" {}

resource "aws_s3_bucket" "access_logs" {
  # checkov:skip=CKV_AWS_18:This is the access-log target; logging it would log itself.
  # checkov:skip=CKV_AWS_144:Access logs are kept in-region; replicating them is an account-wide choice.
  # checkov:skip=CKV2_AWS_62:Nothing processes access logs as they arrive.
  # checkov:skip=CKV_AWS_145:S3 delivers server access logs only to buckets encrypted with SSE-S3 (encrypted below).
  bucket        = "${var.bucket_name}-access-logs"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = var.access_log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  depends_on = [aws_s3_bucket_versioning.access_logs]
}

module "access_logs_tls_only" {
  source     = "../tls-only"
  bucket_arn = aws_s3_bucket.access_logs.arn
}

data "aws_iam_policy_document" "access_logs" {
  # The emulator speaks plain HTTP and would apply the TLS statement without its condition.
  source_policy_documents = var.attach_bucket_policy ? [module.access_logs_tls_only.json] : []
  statement {
    sid       = "S3DeliversAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs.arn}/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.uploads.arn, aws_s3_bucket.signatures.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket     = aws_s3_bucket.access_logs.id
  policy     = data.aws_iam_policy_document.access_logs.json
  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
