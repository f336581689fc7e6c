# The thumbnail Lambda: invoked asynchronously by the router, retried by Lambda, and sent to
# its own DLQ when the retries run out. It may read uploads, write only under the reserved
# prefix's thumbnails/, write the audit table and publish notifications.

resource "aws_sqs_queue" "dlq" {
  name                              = "${var.deployment.name_prefix}-thumbnail-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.deployment.kms_key_arn
  kms_data_key_reuse_period_seconds = 3600
  tags                              = var.tags
}

module "uploads" {
  source          = "../uploads-access"
  storage         = var.storage
  reserved_prefix = var.deployment.reserved_prefix
  output_folders  = ["thumbnails"]
}

data "aws_iam_policy_document" "thumbnail" {
  source_policy_documents = [module.uploads.json]
  statement {
    sid       = "OnFailureDestination"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }
}

module "function" {
  source       = "../lambda-function"
  name         = "${var.deployment.name_prefix}-thumbnail"
  binary       = "thumbnail"
  package_path = var.package_path
  sizing       = var.sizing
  policy_json  = data.aws_iam_policy_document.thumbnail.json
  deployment   = var.deployment
  tags         = var.tags
  variables = {
    TRIAGE_RESERVED_PREFIX      = var.deployment.reserved_prefix
    TRIAGE_OUTPUT_BUCKETS       = var.storage.output_buckets
    TRIAGE_THUMBNAIL_SIZES      = join(",", var.sizes)
    TRIAGE_THUMBNAIL_FORMAT     = var.output_format
    TRIAGE_THUMBNAIL_QUALITY    = var.jpeg_quality
    TRIAGE_THUMBNAIL_MAX_PIXELS = var.max_pixels
    TRIAGE_THUMBNAIL_MAX_BYTES  = var.sizing.max_input_bytes
    TRIAGE_THUMBNAIL_BACKGROUND = var.background
    # What damage fails an image (sharp's failOn), and how long one image may take.
    TRIAGE_THUMBNAIL_FAIL_ON         = var.fail_on
    TRIAGE_THUMBNAIL_TIMEOUT_SECONDS = var.sizing.work_timeout_seconds
  }
}

resource "aws_lambda_function_event_invoke_config" "thumbnail" {
  function_name                = module.function.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = var.maximum_event_age_seconds
  destination_config {
    on_failure {
      destination = aws_sqs_queue.dlq.arn
    }
  }
}
