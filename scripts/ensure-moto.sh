#!/usr/bin/env bash
# Installs the pinned AWS emulator (moto server) into a project-local virtualenv
# and prints the path of that virtualenv's python, which runs emulator/serve.py
# (scripts/emulator.sh does both). Idempotent and safe to run concurrently
# (flock), so every test binary and script may call it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${TRIAGE_MOTO_VENV:-$root/.local/moto-venv}"
lock="$root/emulator/requirements.lock"

"$root/scripts/ensure-venv.sh" "$venv" --no-deps -r "$lock"
echo "$venv/bin/python"
