#!/usr/bin/env bash
# Creates a project-local virtualenv and pip-installs into it, once: the install is redone
# only when the pip arguments, or a requirements file they name, change. Safe to run
# concurrently (flock). Usage: scripts/ensure-venv.sh <venv dir> <pip install arguments...>
set -euo pipefail
venv="$1"
shift
files=()
for argument in "$@"; do
    [[ -f "$argument" ]] && files+=("$argument")
done
stamp="$venv/.installed-$({ printf '%s\n' "$@"; cat ${files[@]+"${files[@]}"} /dev/null; } | sha256sum | cut -c1-16)"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [[ ! -f "$stamp" ]]; then
    python="${PYTHON:-python3}"
    command -v "$python" >/dev/null || {
        echo "ensure-venv: $python not found; install Python 3.9+ or set PYTHON" >&2
        exit 1
    }
    echo "ensure-venv: installing $* into $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
    touch "$stamp"
fi
