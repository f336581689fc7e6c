output "state_bucket" {
  description = "Pass to each environment: terraform init -backend-config=\"bucket=<this>\" -backend-config=\"region=<region>\"."
  value       = aws_s3_bucket.state.id
}

output "large_file_repository_url" {
  description = "Push the large-file image here; pass <url>@sha256:<digest> as large_file_image."
  value       = aws_ecr_repository.large_file.repository_url
}
