# The large-file task: a Fargate task definition the router starts as the large-file queue's
# backlog calls for; each task takes dispatches from the queue until it stays empty. Two roles:
# the execution role lets ECS pull the image and ship logs; the task role is what the binary
# may do: take messages from its queue, read uploads, write only its manifests under the
# reserved prefix, write the compliance verdict of its checks as the checkers do (tags,
# quarantine), write the audit table and publish notifications.

locals {
  family         = "${var.deployment.name_prefix}-large-file"
  container_name = "large-file"
  # Several missed progress updates before another task may take the object over (a pass that
  # stops on SIGTERM releases its claim at once).
  claim_lease_seconds = max(120, 6 * var.progress_seconds)
  # <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<digest> -> the repository.
  registry       = regex("^(?:(\\d{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com/)?([^@:]+)", var.image)
  repository_arn = "arn:${data.aws_partition.current.partition}:ecr:${coalesce(local.registry[1], data.aws_region.current.name)}:${coalesce(local.registry[0], data.aws_caller_identity.current.account_id)}:repository/${local.registry[2]}"
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_cloudwatch_log_group" "task" {
  # checkov:skip=CKV_AWS_338:Retention is each environment's choice (terraform.tfvars): prod keeps 400 days, dev and staging less to save cost; the audit table keeps the outcomes.
  name              = "/ecs/${local.family}"
  retention_in_days = var.deployment.log_retention_days
  kms_key_id        = var.deployment.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${local.family}-execution"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "execution" {
  statement {
    # ECR's login token is account-wide: no resource narrower than "*" exists for it.
    sid       = "LogInToRegistry"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid       = "PullImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [local.repository_arn]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.task.arn}:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name               = "${local.family}-task"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

module "uploads" {
  source          = "../uploads-access"
  storage         = var.storage
  reserved_prefix = var.deployment.reserved_prefix
  output_folders  = ["manifests"]
}

module "verdict_writer" {
  source          = "../verdict-writer"
  storage         = var.storage
  reserved_prefix = var.deployment.reserved_prefix
  quarantine      = var.quarantine
}

data "aws_iam_policy_document" "task" {
  source_policy_documents = [module.uploads.json, module.verdict_writer.json]
  dynamic "statement" {
    for_each = var.signatures_uri == null ? [] : [1]
    content {
      sid = "ReadSignatures"
      # Listed with their versions, then each read at the version listed.
      actions   = ["s3:ListBucketVersions", "s3:GetObject", "s3:GetObjectVersion"]
      resources = [var.signatures_bucket_arn, "${var.signatures_bucket_arn}/*"]
    }
  }
  statement {
    sid       = "TakeDispatches"
    actions   = ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"]
    resources = [var.queue.arn]
  }
  statement {
    # Every bucket, queue, topic and the table are encrypted with the deployment key.
    sid       = "UseDeploymentKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.deployment.kms_key_arn]
  }
  statement {
    sid       = "Audit"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"]
    resources = [var.deployment.audit_table_arn]
  }
  statement {
    sid       = "Notify"
    actions   = ["sns:Publish"]
    resources = [var.deployment.notifications_topic_arn]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "task"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

resource "aws_ecs_task_definition" "task" {
  family                   = local.family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.architecture
  }

  container_definitions = jsonencode([{
    name                   = local.container_name
    image                  = var.image
    essential              = true
    memory                 = var.memory
    readonlyRootFilesystem = true
    # Fargate sends SIGTERM, then SIGKILL after this: time for a receive to end (at most 10 s)
    # and each pass to record its progress and give its object back.
    stopTimeout = 30
    environment = [for name, value in {
      TRIAGE_ENVIRONMENT     = var.deployment.environment
      TRIAGE_RESERVED_PREFIX = var.deployment.reserved_prefix
      TRIAGE_OUTPUT_BUCKETS  = var.storage.output_buckets
      TRIAGE_EMF_METRICS     = "true"
      # Blank runs the task without the malware check.
      TRIAGE_SIGNATURES_URI           = var.signatures_uri == null ? "" : var.signatures_uri
      TRIAGE_AUDIT_TABLE              = var.deployment.audit_table_name
      TRIAGE_NOTIFICATIONS_TOPIC_ARN  = var.deployment.notifications_topic_arn
      TRIAGE_LARGE_PART_SIZE          = var.part_size
      TRIAGE_LARGE_PARALLELISM        = tostring(var.parallelism)
      TRIAGE_LARGE_ATTEMPTS           = tostring(var.attempts)
      TRIAGE_LARGE_PROGRESS_SECONDS   = tostring(var.progress_seconds)
      TRIAGE_LARGE_MAX_BYTES          = var.max_bytes
      TRIAGE_LARGE_QUEUE_URL          = var.queue.url
      TRIAGE_LARGE_MESSAGES_PER_TASK  = tostring(var.messages_per_task)
      TRIAGE_LARGE_IDLE_SECONDS       = tostring(var.idle_seconds)
      TRIAGE_LARGE_VISIBILITY_SECONDS = tostring(var.queue.visibility_timeout_seconds)
      TRIAGE_AUDIT_RETENTION_DAYS     = tostring(var.deployment.audit_retention_days)
      TRIAGE_QUARANTINE               = var.quarantine
      TRIAGE_VERDICT_TAGS             = var.verdict_tags
      # Progress every progress_seconds renews the claim; a task killed without a word frees
      # it after this.
      TRIAGE_CLAIM_LEASE_SECONDS = tostring(local.claim_lease_seconds)
      RUST_LOG                   = var.deployment.log_level
    } : { name = name, value = value }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.task.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "large-file"
      }
    }
    # Tells the local executor which workspace binary implements this container.
    dockerLabels = { "s3-triage:binary" = "large-file" }
  }])
  tags = var.tags
}

data "aws_region" "current" {}
