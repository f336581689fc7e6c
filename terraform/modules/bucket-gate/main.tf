# The compliance gate of one watched bucket (docs/compliance.md, "Who may do what"), as bucket
# policy statements. Every verdict is written on the object as a tag
# (workers/compliance/src/quarantine.rs); only the pipeline and the named admins may write,
# change or remove that tag, and what the gate lets others read depends on it. Principals are
# named by role ARN: aws:PrincipalArn is the role of an assumed session. The stack attaches it
# to the bucket it creates; for a bucket it watches but did not create it is an output the
# owner merges into the bucket's own policy.

locals {
  verdict_tag       = "s3:ExistingObjectTag/${var.verdict_tag.key}"
  verdict_writers   = concat(var.verdict_writer_arns, var.admin_role_arns)
  unscanned_readers = concat(var.pipeline_reader_arns, var.admin_role_arns)
  infected_readers  = concat(var.verdict_writer_arns, var.admin_role_arns)
  gated_object_arns = [for prefix in var.gated_prefixes : "${var.bucket_arn}/${prefix}*"]
}

data "aws_iam_policy_document" "this" {
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
    resources = ["${var.bucket_arn}/*"]
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
    resources = ["${var.bucket_arn}/*"]
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
    resources = ["${var.bucket_arn}/*"]
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

  # Outputs (thumbnails, text, manifests, quarantine copies) are written by the pipeline only.
  # The bucket the stack creates takes uploads under its upload prefixes and nothing else; a
  # bucket the stack watches keeps its owner's other uses, and only the reserved prefix is
  # the pipeline's.
  statement {
    sid           = var.uploads_only ? "DenyWritesOutsideUploads" : "DenyOutputForgery"
    effect        = "Deny"
    actions       = ["s3:PutObject"]
    resources     = var.uploads_only ? null : ["${var.bucket_arn}/${var.reserved_prefix}*"]
    not_resources = var.uploads_only ? [for prefix in var.upload_prefixes : "${var.bucket_arn}/${prefix}*"] : null
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
