# The deployment's customer managed key. Everything that stores or carries data encrypts with
# it: the uploads bucket, every queue and topic, the audit table, the log groups and the
# functions' environment. Services that write into encrypted queues and topics on our behalf
# (S3 event notifications, SNS fan-out, CloudWatch alarms, EventBridge, Budgets) may use it
# only for resources of this account.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
}

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_109:A key policy governs only its own key; the account statement is AWS's default, without which IAM policies could not grant use of the key.
  # checkov:skip=CKV_AWS_111:A key policy governs only its own key; writes are limited to the account (root) and to services acting for this account (aws:SourceAccount).
  # checkov:skip=CKV_AWS_356:In a key policy "*" means this key and nothing else.
  # Without this statement nobody could manage the key; IAM policies decide who may use it.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
  statement {
    sid       = "ServicesDeliverEncryptedMessages"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type = "Service"
      identifiers = [
        "s3.amazonaws.com",
        "sns.amazonaws.com",
        "events.amazonaws.com",
        "cloudwatch.amazonaws.com",
        "budgets.amazonaws.com",
      ]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
  statement {
    sid       = "LogsEncryptLogGroups"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: uploads, queues, topics, audit table and logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_days
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.this.key_id
}
