#!/usr/bin/env bash
# terraform fmt -check and validate for every environment root (no backend, no credentials).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tf="$root/scripts/terraform.sh"

"$tf" -chdir="$root/terraform" fmt -check -recursive -diff
for env in "$root"/terraform/envs/*/; do
    name="$(basename "$env")"
    echo "terraform validate: envs/$name" >&2
    "$tf" -chdir="$env" init -backend=false -input=false -no-color >/dev/null
    "$tf" -chdir="$env" validate -no-color
done
