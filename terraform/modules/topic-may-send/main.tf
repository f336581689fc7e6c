# The queue policy of a queue an SNS topic feeds: the topic may send, no other topic and no
# other service may. The SourceArn condition is what keeps any other topic (one an attacker
# creates and points at the queue) out.

data "aws_iam_policy_document" "this" {
  statement {
    sid       = var.sid
    actions   = ["sqs:SendMessage"]
    resources = var.queue_arns
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [var.topic_arn]
    }
  }
}
