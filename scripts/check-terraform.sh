#!/usr/bin/env bash
# Static checks of terraform/: fmt -check, validate of every environment root (no backend, no
# credentials), every variable with a description and a type and every output with a
# description, and checkov (pinned, from PyPI, installed into .local/checkov-venv on first
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

"${PYTHON:-python3}" - "$root/terraform" <<'PY'
import pathlib, re, sys
missing = []
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.tf")):
    if ".terraform" in path.parts or path.is_symlink():
        continue
    for kind, name, body in re.findall(r'(?ms)^(variable|output) "(\w+)" \{\n(.*?)^\}', path.read_text()):
        needs = ["description"] + (["type"] if kind == "variable" else [])
        missing += [f"{path}: {kind} {name} has no {what}" for what in needs
                    if not re.search(rf"^\s*{what}\s*=", body, re.M)]
if missing:
    sys.exit("\n".join(missing))
print("terraform: every variable has a description and a type, every output a description", file=sys.stderr)
PY

venv="$root/.local/checkov-venv"
lock="$root/terraform/checkov-requirements.lock"
"$root/scripts/ensure-venv.sh" "$venv" --no-deps -r "$lock"
echo "checkov: terraform/ (every module through every environment root)" >&2
# environment/ is scanned through the envs that link to it (its module paths are theirs).
"$venv/bin/checkov" --directory "$root/terraform" --framework terraform --compact --quiet \
    --skip-download --skip-path '\.terraform' --skip-path 'terraform/environment' --output cli
