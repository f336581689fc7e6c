# What a stage that reads uploads takes, over every watched bucket: read any object version of
# the sources; write its outputs under <reserved prefix><folder>/ of every output bucket, for each of its folders; and
# the KMS grants of buckets encrypted with keys of their own (decrypt what it reads, encrypt
# what it writes). Callers add it to their role's policy with source_policy_documents.

locals {
  writes = length(var.output_folders) > 0
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [for bucket in var.storage.source_bucket_arns : "${bucket}/*"]
  }
  dynamic "statement" {
    for_each = local.writes ? [1] : []
    content {
      sid     = "WriteOutputs"
      actions = ["s3:PutObject"]
      resources = flatten([
        for bucket in var.storage.output_bucket_arns : [
          for folder in var.output_folders : "${bucket}/${var.reserved_prefix}${folder}/*"
        ]
      ])
    }
  }
  dynamic "statement" {
    for_each = length(var.storage.read_key_arns) > 0 ? [1] : []
    content {
      sid       = "DecryptSources"
      actions   = ["kms:Decrypt"]
      resources = var.storage.read_key_arns
    }
  }
  dynamic "statement" {
    for_each = local.writes && length(var.storage.write_key_arns) > 0 ? [1] : []
    content {
      sid       = "EncryptOutputs"
      actions   = ["kms:GenerateDataKey"]
      resources = var.storage.write_key_arns
    }
  }
}
