# The audit trail every stage writes (one item per object version and stage) and the topic
# its notifications go to. The layout must match notifications/src/table.rs.

resource "aws_dynamodb_table" "audit" {
  name                        = "${var.name_prefix}-audit"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "status_day"
    type = "S"
  }
  attribute {
    name = "tier_day"
    type = "S"
  }
  attribute {
    name = "finished_at"
    type = "S"
  }
  attribute {
    name = "unfinished_day"
    type = "S"
  }
  attribute {
    name = "claimed_at"
    type = "N"
  }

  # "What failed in the last hour": status_day = FAILED#<day>, finished_at >= <an hour ago>.
  global_secondary_index {
    name            = "by-status"
    hash_key        = "status_day"
    range_key       = "finished_at"
    projection_type = "ALL"
  }

  # "What went through tier X today": tier_day = <tier>#<day>.
  global_secondary_index {
    name            = "by-tier"
    hash_key        = "tier_day"
    range_key       = "finished_at"
    projection_type = "ALL"
  }

  # "What is still in flight since before <cutoff>": only records not yet announced carry
  # unfinished_day, so the sweep reads these and nothing else.
  global_secondary_index {
    name            = "unfinished"
    hash_key        = "unfinished_day"
    range_key       = "claimed_at"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_sns_topic" "notifications" {
  name              = "${var.name_prefix}-notifications"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}
