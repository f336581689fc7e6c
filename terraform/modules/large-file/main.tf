# The large-file task: a Fargate task definition the router runs once per object. Two roles:
# the execution role lets ECS pull the image and ship logs; the task role is what the binary
# may do: read uploads, write only its manifests under the reserved prefix, write the audit
# table and publish notifications.

locals {
  family         = "${var.name_prefix}-large-file"
  container_name = "large-file"
}

resource "aws_cloudwatch_log_group" "task" {
  name              = "/ecs/${local.family}"
  retention_in_days = var.log_retention_days
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
    sid       = "PullImage"
    actions   = ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = ["*"]
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

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.bucket_arn}/*"]
  }
  dynamic "statement" {
    for_each = var.signatures_uri == null ? [] : [1]
    content {
      sid       = "ListSignatures"
      actions   = ["s3:ListBucket"]
      resources = [var.bucket_arn]
    }
  }
  statement {
    sid       = "WriteManifests"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arn}/${var.reserved_prefix}manifests/*"]
  }
  statement {
    sid       = "Audit"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [var.audit_table_arn]
  }
  statement {
    sid       = "Notify"
    actions   = ["sns:Publish"]
    resources = [var.notifications_topic_arn]
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
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name                   = local.container_name
    image                  = var.image
    essential              = true
    memory                 = var.memory
    readonlyRootFilesystem = true
    # Fargate sends SIGTERM, then SIGKILL after this: time to record FAILED "interrupted".
    stopTimeout = 30
    environment = [for name, value in merge(var.signatures_uri == null ? {} : {
      TRIAGE_SIGNATURES_URI = var.signatures_uri
      }, {
      TRIAGE_ENVIRONMENT             = var.environment
      TRIAGE_AUDIT_TABLE             = var.audit_table_name
      TRIAGE_NOTIFICATIONS_TOPIC_ARN = var.notifications_topic_arn
      TRIAGE_RESERVED_PREFIX         = var.reserved_prefix
      TRIAGE_LARGE_PART_SIZE         = var.part_size
      TRIAGE_LARGE_PARALLELISM       = tostring(var.parallelism)
      RUST_LOG                       = var.log_level
    }) : { name = name, value = value }]
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
