# The same stack as every other environment, applied to the local emulator.

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  endpoints {
    cloudwatch = var.endpoint_url
    dynamodb   = var.endpoint_url
    ec2        = var.endpoint_url
    ecs        = var.endpoint_url
    events     = var.endpoint_url
    iam        = var.endpoint_url
    kms        = var.endpoint_url
    lambda     = var.endpoint_url
    logs       = var.endpoint_url
    s3         = var.endpoint_url
    sns        = var.endpoint_url
    sqs        = var.endpoint_url
    sts        = var.endpoint_url
  }

  default_tags {
    tags = {
      Environment = "local"
      Project     = "s3-triage"
      Owner       = "local"
    }
  }
}

# The emulator stores a function's package and runs nothing; the local executor runs the
# workspace binary each function's s3-triage:binary tag names. So every function gets this
# placeholder: the apply needs no build, and runs while the binaries compile.
locals {
  package = "${path.module}/function-package.txt"
}

module "stack" {
  source                          = "../../modules/stack"
  name_prefix                     = "s3-triage-local"
  environment                     = "local"
  bucket_name                     = "s3-triage-local-uploads"
  router_package_path             = local.package
  thumbnail_package_path          = local.package
  extractor_package_path          = local.package
  compliance_checker_package_path = local.package
  sweeper_package_path            = local.package
  canary_package_path             = local.package
  # Declared so the consistency checks cover it; the emulator runs no schedule.
  canary_schedule  = "rate(30 minutes)"
  large_file_image = "s3-triage-large-file:local"
  # The emulator re-reads a whole object for every ranged GET: read it with one streaming GET.
  large_file = {
    part_size   = "5 GiB"
    parallelism = 1
    # As dev and staging run it: the router's RunTask names FARGATE_SPOT.
    capacity = "spot"
    # A burst shares a few tasks, two objects each, which exit soon after: what the local
    # stack's burst test counts.
    max_tasks         = 3
    messages_per_task = 2
    idle_seconds      = 5
  }
  # The executor plays one execution environment per function; for the thumbnail tier (the
  # one not fed by a queue, which needs at least 2) the deployment says so too.
  functions = {
    thumbnail = { reserved_concurrency = 1 }
  }
  event_path               = var.event_path
  existing_buckets         = var.existing_buckets
  notification_subscribers = var.notification_subscribers
  protect_data             = false
  log_retention_days       = 1
  monthly_budget_usd       = 1
  emulated                 = true
}
