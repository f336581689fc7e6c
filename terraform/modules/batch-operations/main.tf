# The role S3 Batch Operations assumes to run `triage backfill --batch-operations` jobs: it
# invokes the router once per task, lists a watched bucket to generate a job's manifest (or
# reads an inventory manifest it is pointed at), and writes the completion report under the
# reserved prefix of the stack's bucket. It reads no object: the router finds each version by listing.

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["batchoperations.s3.amazonaws.com"]
    }
    # Only this account's jobs: no confused deputy through another account's Batch Operations.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name_prefix}-batch-operations"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "InvokeRouter"
    actions   = ["lambda:InvokeFunction"]
    resources = [var.router_function_arn]
  }
  statement {
    sid       = "GenerateManifests"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = var.source_bucket_arns
  }
  dynamic "statement" {
    for_each = length(var.inventory_manifest_arns) > 0 ? [1] : []
    content {
      sid       = "ReadInventoryManifests"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = var.inventory_manifest_arns
    }
  }
  statement {
    sid       = "WriteReports"
    actions   = ["s3:PutObject"]
    resources = ["${var.uploads_bucket_arn}/${var.report_prefix}*"]
  }
  # The bucket encrypts with the deployment's key: a report is written through it.
  statement {
    sid       = "EncryptReports"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "batch-operations"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}
