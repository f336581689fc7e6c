# The malware checker's signatures, in a bucket of their own: versioned (each malware record
# names the versions it was judged with), and written by nobody but the deployers, so no
# principal with rights on the uploads bucket can break every check with a malformed file or
# mark every PDF infected with a signature matching %PDF-.

resource "aws_s3_bucket" "signatures" {
  # checkov:skip=CKV_AWS_144:The signature set is redeployed from the repository (or the team's mirror); replicating it adds nothing.
  # checkov:skip=CKV2_AWS_62:The checkers load signatures at cold start; nothing reacts to a new file.
  bucket        = "${var.bucket_name}-signatures"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_versioning" "signatures" {
  bucket = aws_s3_bucket.signatures.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "signatures" {
  bucket                  = aws_s3_bucket.signatures.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "signatures" {
  bucket = aws_s3_bucket.signatures.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

# Records name signature versions: the old ones stay as long as the audit trail keeps them.
resource "aws_s3_bucket_lifecycle_configuration" "signatures" {
  bucket = aws_s3_bucket.signatures.id
  rule {
    id     = "old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.signature_version_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  depends_on = [aws_s3_bucket_versioning.signatures]
}

resource "aws_s3_bucket_logging" "signatures" {
  bucket        = aws_s3_bucket.signatures.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "signatures/"
  depends_on    = [aws_s3_bucket_policy.access_logs]
}

module "signatures_tls_only" {
  source     = "../tls-only"
  bucket_arn = aws_s3_bucket.signatures.arn
}

data "aws_iam_policy_document" "signatures" {
  source_policy_documents = [module.signatures_tls_only.json]
  statement {
    sid    = "OnlyDeployersWrite"
    effect = "Deny"
    actions = [
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:DeleteObjectVersion",
      "s3:PutObjectTagging",
      "s3:PutObjectVersionTagging",
      "s3:PutBucketVersioning",
    ]
    resources = [aws_s3_bucket.signatures.arn, "${aws_s3_bucket.signatures.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = var.signature_writer_arns
    }
  }
}

resource "aws_s3_bucket_policy" "signatures" {
  count      = var.attach_bucket_policy ? 1 : 0
  bucket     = aws_s3_bucket.signatures.id
  policy     = data.aws_iam_policy_document.signatures.json
  depends_on = [aws_s3_bucket_public_access_block.signatures]
}
