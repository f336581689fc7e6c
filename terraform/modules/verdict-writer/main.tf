# What writing a compliance verdict on an upload takes, for the checkers and the large-file
# task alike (workers/compliance/src/quarantine.rs), on every watched bucket: read the object's
# tags and merge the verdict's into them, copy an INFECTED object (its tags with it) under
# <reserved prefix>quarantine/ of its output bucket, and delete it in move mode. Callers add it to their role's
# policy with source_policy_documents.

locals {
  source_objects = [for bucket in var.storage.source_bucket_arns : "${bucket}/*"]
}

data "aws_iam_policy_document" "this" {
  statement {
    sid = "TagVerdict"
    actions = [
      "s3:GetObjectTagging",
      "s3:GetObjectVersionTagging",
      "s3:PutObjectTagging",
      "s3:PutObjectVersionTagging",
    ]
    resources = local.source_objects
  }
  statement {
    sid       = "WriteQuarantine"
    actions   = ["s3:PutObject", "s3:PutObjectTagging"]
    resources = [for bucket in var.storage.output_bucket_arns : "${bucket}/${var.reserved_prefix}quarantine/*"]
  }
  # A copy into a bucket encrypted with a key of its own.
  dynamic "statement" {
    for_each = var.quarantine != "tag" && length(var.storage.write_key_arns) > 0 ? [1] : []
    content {
      sid       = "EncryptQuarantine"
      actions   = ["kms:GenerateDataKey"]
      resources = var.storage.write_key_arns
    }
  }
  dynamic "statement" {
    for_each = var.quarantine == "move" ? [1] : []
    content {
      sid       = "MoveInfected"
      actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
      resources = local.source_objects
    }
  }
}
