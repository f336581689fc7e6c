#!/usr/bin/env bash
# Static checks of terraform/: fmt -check, validate of every environment root (no backend, no
# credentials), and checkov (pinned, from PyPI, installed into .local/checkov-venv on first
# use) with zero failed checks allowed: every skip is annotated inline with its reason.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tf="$root/scripts/terraform.sh"

"$tf" -chdir="$root/terraform" fmt -check -recursive -diff
for env in "$root"/terraform/envs/*/ "$root"/terraform/bootstrap/; do
    echo "terraform validate: ${env#"$root/terraform/"}" >&2
    "$tf" -chdir="$env" init -backend=false -input=false -no-color >/dev/null
    "$tf" -chdir="$env" validate -no-color
done

venv="$root/.local/checkov-venv"
lock="$root/terraform/checkov-requirements.lock"
stamp="$venv/.installed-$(sha256sum "$lock" | cut -c1-16)"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [[ ! -f "$stamp" ]]; then
    echo "check-terraform: installing checkov into $venv" >&2
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$lock" >&2
    touch "$stamp"
fi
echo "checkov: terraform/ (every module through every environment root)" >&2
"$venv/bin/checkov" --directory "$root/terraform" --framework terraform --compact --quiet \
    --skip-path '\.terraform' --output cli
