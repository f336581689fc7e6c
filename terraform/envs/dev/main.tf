provider "aws" {
  region = var.region
  default_tags {
    tags = {
      project     = "s3-triage"
      environment = "dev"
    }
  }
}

module "stack" {
  source                          = "../../modules/stack"
  name_prefix                     = "s3-triage-dev"
  environment                     = "dev"
  bucket_name                     = var.bucket_name
  router_package_path             = var.router_package_path
  thumbnail_package_path          = var.thumbnail_package_path
  extractor_package_path          = var.extractor_package_path
  compliance_checker_package_path = var.compliance_checker_package_path
  large_file_image                = var.large_file_image
  large_subnet_ids                = var.large_subnet_ids
  large_security_group_ids        = var.large_security_group_ids
  routing_rules                   = var.routing_rules
  protect_data                    = false
  log_retention_days              = 14
}
