# Once per AWS account and region, before any environment: the S3 bucket that holds every
# environment's terraform state (locked with use_lockfile, no DynamoDB table needed) and the
# ECR repository the large-file image is pushed to. Its own state stays local: keep
# terraform.tfstate from this directory somewhere safe, or import the two resources later.

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Environment = "shared"
      Project     = "s3-triage"
      Owner       = var.owner
    }
  }
}

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "state" {
  # checkov:skip=CKV2_AWS_64:The default key policy (the account administers and IAM decides use) is what this key needs; nothing else must use it.
  description             = "s3-triage terraform state and container images"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "state" {
  name          = "alias/s3-triage-bootstrap"
  target_key_id = aws_kms_key.state.key_id
}

resource "aws_s3_bucket" "state" {
  # checkov:skip=CKV_AWS_18:Only terraform runs read and write state; turn on CloudTrail data events for the bucket where an account policy asks for object-level audit.
  # checkov:skip=CKV_AWS_144:Versioning keeps every state revision; replicate where an account policy requires a second region.
  # checkov:skip=CKV2_AWS_62:Nothing reacts to state writes.
  bucket = "s3-triage-terraform-state-${data.aws_caller_identity.current.account_id}-${var.region}"
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    id     = "old-state-revisions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  depends_on = [aws_s3_bucket_versioning.state]
}

module "state_tls_only" {
  source     = "../modules/tls-only"
  bucket_arn = aws_s3_bucket.state.arn
}

resource "aws_s3_bucket_policy" "state" {
  bucket     = aws_s3_bucket.state.id
  policy     = module.state_tls_only.json
  depends_on = [aws_s3_bucket_public_access_block.state]
}

# Tags cannot be moved once pushed, so a digest and a tag always name the same image.
resource "aws_ecr_repository" "large_file" {
  name                 = "s3-triage-large-file"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.state.arn
  }
}

resource "aws_ecr_lifecycle_policy" "large_file" {
  repository = aws_ecr_repository.large_file.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the 20 most recent images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = 20
      }
      action = { type = "expire" }
    }]
  })
}
