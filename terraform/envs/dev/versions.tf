terraform {
  required_version = ">= 1.10, < 2.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
  # The state bucket comes from terraform/bootstrap; per machine:
  #   terraform init -backend-config="bucket=<state bucket>" -backend-config="region=<region>"
  backend "s3" {
    key          = "s3-triage/dev.tfstate"
    use_lockfile = true
    encrypt      = true
  }
}
