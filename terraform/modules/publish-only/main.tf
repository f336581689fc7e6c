# A topic only the named roles may publish to: the account keeps managing and subscribing to
# it, but a Publish from any other principal is denied, whatever its own IAM policy allows.
# (The default topic policy lets every principal of the account publish, so anyone could
# forge a dispatch or a notification.)

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "this" {
  statement {
    sid = "AccountManagesAndSubscribes"
    actions = [
      "sns:GetTopicAttributes",
      "sns:SetTopicAttributes",
      "sns:AddPermission",
      "sns:RemovePermission",
      "sns:DeleteTopic",
      "sns:Subscribe",
      "sns:ListSubscriptionsByTopic",
    ]
    resources = [var.topic_arn]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
  statement {
    sid       = "OnlyThesePublish"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [var.topic_arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = var.publisher_arns
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = var.topic_arn
  policy = data.aws_iam_policy_document.this.json
}
