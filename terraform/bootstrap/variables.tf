variable "region" {
  description = "AWS region of the state bucket and the image repository (the environments' region)."
  type        = string
}

variable "owner" {
  description = "Team or person answerable for the deployment (the Owner tag)."
  type        = string
}
