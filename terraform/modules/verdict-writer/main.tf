# What writing a compliance verdict on an upload takes, for the checkers and the large-file
# task alike (workers/compliance/src/quarantine.rs): read the object's tags and merge the
# verdict's into them, copy an INFECTED object (its tags with it) under
# <reserved prefix>quarantine/, and delete it in move mode. Callers add it to their role's
# policy with source_policy_documents.

data "aws_iam_policy_document" "this" {
  statement {
    sid = "TagVerdict"
    actions = [
      "s3:GetObjectTagging",
      "s3:GetObjectVersionTagging",
      "s3:PutObjectTagging",
      "s3:PutObjectVersionTagging",
    ]
    resources = ["${var.bucket_arn}/*"]
  }
  statement {
    sid       = "WriteQuarantine"
    actions   = ["s3:PutObject", "s3:PutObjectTagging"]
    resources = ["${var.bucket_arn}/${var.reserved_prefix}quarantine/*"]
  }
  dynamic "statement" {
    for_each = var.quarantine == "move" ? [1] : []
    content {
      sid       = "MoveInfected"
      actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
      resources = ["${var.bucket_arn}/*"]
    }
  }
}
