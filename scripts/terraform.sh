#!/usr/bin/env bash
# Runs terraform with the project's provider settings: when an offline provider mirror exists
# (TRIAGE_TF_MIRROR, default /opt/tf-plugins), the hashicorp/aws provider comes from it;
# otherwise terraform uses the public registry as usual. Arguments go to terraform unchanged.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mirror="${TRIAGE_TF_MIRROR:-/opt/tf-plugins}"

command -v terraform >/dev/null || {
    echo "terraform.sh: terraform not found; install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install)" >&2
    exit 1
}
if [[ -d "$mirror/registry.terraform.io/hashicorp/aws" ]]; then
    config="$root/.local/terraform.rc"
    mkdir -p "$root/.local"
    cat >"$config" <<HCL
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
HCL
    export TF_CLI_CONFIG_FILE="$config"
elif [[ -n "${TF_CLI_CONFIG_FILE:-}" && ! -f "$TF_CLI_CONFIG_FILE" ]]; then
    # A config path that does not exist only produces warnings: use terraform's defaults.
    unset TF_CLI_CONFIG_FILE
fi
export TF_IN_AUTOMATION="${TF_IN_AUTOMATION:-1}"
exec terraform "$@"
