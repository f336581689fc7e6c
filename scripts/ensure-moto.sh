#!/usr/bin/env bash
# Installs the pinned AWS emulator (moto server) into a project-local virtualenv
# and prints the path of that virtualenv's python, which runs emulator/serve.py
# (scripts/emulator.sh does both). Idempotent and safe to run concurrently
# (flock), so every test binary and script may call it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${TRIAGE_MOTO_VENV:-$root/.local/moto-venv}"
lock="$root/emulator/requirements.lock"
stamp="$venv/.installed-$(sha256sum "$lock" | cut -c1-16)"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

if [[ ! -f "$stamp" ]]; then
    python="${PYTHON:-python3}"
    command -v "$python" >/dev/null || {
        echo "ensure-moto: $python not found; install Python 3.9+ or set PYTHON" >&2
        exit 1
    }
    echo "ensure-moto: installing moto server into $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$lock" >&2
    touch "$stamp"
fi
echo "$venv/bin/python"
