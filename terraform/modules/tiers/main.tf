# The transports the router dispatches into. Each worker's own module attaches its consumer:
# the extractor to its queue, the checkers' queues to the topic, the large-file tasks (run in
# the cluster) to theirs. (The thumbnail tier is its function itself, invoked asynchronously.)

module "extractor_queue" {
  source                     = "../queue"
  name                       = "${var.name_prefix}-extractor"
  visibility_timeout_seconds = var.extractor_visibility_timeout_seconds
  max_receive_count          = var.max_receive_count
  kms_key_arn                = var.kms_key_arn
  tags                       = var.tags
}

# A task renews a message's visibility while it streams the object, so the timeout is only how
# soon a task that died without a word gives its object to another. Each SIGTERM (a Spot
# reclaim) gives one back too, so a dispatch may be received a few times before it is poison.
module "large_queue" {
  source                     = "../queue"
  name                       = "${var.name_prefix}-large"
  visibility_timeout_seconds = var.large_visibility_timeout_seconds
  max_receive_count          = var.large_max_receive_count
  kms_key_arn                = var.kms_key_arn
  tags                       = var.tags
}

resource "aws_sns_topic" "compliance" {
  name              = "${var.name_prefix}-compliance"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_ecs_cluster" "large" {
  name = "${var.name_prefix}-large"
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = var.tags
}

# Both Fargate capacities: the router names one per RunTask (large_file.capacity: Spot, with
# on-demand when Spot has none to give, or on-demand alone).
resource "aws_ecs_cluster_capacity_providers" "large" {
  cluster_name       = aws_ecs_cluster.large.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]
  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}
