# The router Lambda, fed by the ingest queue with partial batch responses, and allowed exactly
# what it does: read the ingest queue, write the audit table, publish notifications, list the
# uploads' versions, and dispatch to the four tiers.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  function_name = "${var.deployment.name_prefix}-router"
  partition_arn = "arn:aws"
  region        = data.aws_region.current.name
  account_id    = data.aws_caller_identity.current.account_id
  thumbnail_arn = "${local.partition_arn}:lambda:${local.region}:${local.account_id}:function:${var.thumbnail_function_name}"
  task_family   = "${local.partition_arn}:ecs:${local.region}:${local.account_id}:task-definition/${var.large_task_family}:*"
}

data "aws_iam_policy_document" "router" {
  # An event that names no version is resolved to the version of the key with its eTag.
  statement {
    sid       = "ResolveAnnouncedVersions"
    actions   = ["s3:ListBucketVersions"]
    resources = var.source_bucket_arns
  }
  statement {
    sid       = "DispatchCompliance"
    actions   = ["sns:Publish"]
    resources = [var.compliance_topic_arn]
  }
  statement {
    sid       = "DispatchThumbnail"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.thumbnail_arn]
  }
  statement {
    sid       = "DispatchDocument"
    actions   = ["sqs:SendMessage"]
    resources = [var.extractor_queue_arn]
  }
  statement {
    # Sends large dispatches, then reads the backlog to size the fleet by.
    sid       = "DispatchLarge"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [var.large_queue.arn]
  }
  statement {
    sid       = "StartLargeTasks"
    actions   = ["ecs:RunTask"]
    resources = [local.task_family]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }
  statement {
    # Counts the running tasks and stops a second one a racing router started in a slot.
    # ListTasks names no resource; the cluster condition keeps all three to the tier's cluster.
    sid       = "CountLargeTasks"
    actions   = ["ecs:ListTasks", "ecs:DescribeTasks", "ecs:StopTask"]
    resources = ["*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }
  dynamic "statement" {
    for_each = length(var.large_task_role_arns) > 0 ? [1] : []
    content {
      sid       = "PassLargeTaskRoles"
      actions   = ["iam:PassRole"]
      resources = var.large_task_role_arns
      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["ecs-tasks.amazonaws.com"]
      }
    }
  }
}

module "function" {
  source       = "../lambda-function"
  name         = local.function_name
  binary       = "router"
  package_path = var.package_path
  sizing       = var.sizing
  queue_arn    = var.ingest_queue_arn
  policy_json  = data.aws_iam_policy_document.router.json
  deployment   = var.deployment
  tags         = var.tags
  variables = {
    TRIAGE_RESERVED_PREFIX       = var.deployment.reserved_prefix
    TRIAGE_OUTPUT_BUCKETS        = var.output_buckets
    TRIAGE_THUMBNAIL_FUNCTION    = var.thumbnail_function_name
    TRIAGE_EXTRACTOR_QUEUE_URL   = var.extractor_queue_url
    TRIAGE_COMPLIANCE_TOPIC_ARN  = var.compliance_topic_arn
    TRIAGE_LARGE_CLUSTER         = var.cluster_arn
    TRIAGE_LARGE_TASK_DEFINITION = var.large_task_family
    TRIAGE_LARGE_QUEUE_URL       = var.large_queue.url
    TRIAGE_LARGE_MAX_TASKS       = tostring(var.large_fleet.max_tasks)
    # The task's own value: the fleet is sized by what one task takes at once.
    TRIAGE_LARGE_MESSAGES_PER_TASK = tostring(var.large_fleet.messages_per_task)
    TRIAGE_LARGE_SUBNETS           = join(",", var.large_subnet_ids)
    TRIAGE_LARGE_SECURITY_GROUPS   = join(",", var.large_security_group_ids)
    # Private subnets reach AWS through VPC endpoints, not public addresses.
    TRIAGE_LARGE_ASSIGN_PUBLIC_IP = "false"
    TRIAGE_LARGE_CAPACITY         = var.large_capacity
    # Blank keeps the built-in routing table.
    TRIAGE_ROUTING_RULES = var.routing_rules == null ? "" : var.routing_rules
  }
}

# The router also checks the large-file fleet on a schedule: a dispatch given back by a task
# that was reclaimed, or that arrived as the last task exited idle, gets a task within a tick
# instead of waiting for the next upload.
module "fleet_check" {
  source        = "../schedule"
  function_name = module.function.function_name
  function_arn  = module.function.function_arn
  schedule      = var.large_fleet_check_schedule
  description   = "Starts the large-file tasks the large-file queue's backlog calls for."
  tags          = var.tags
}
