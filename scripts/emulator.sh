#!/usr/bin/env bash
# Runs the project's AWS emulator in the foreground, installing it first:
#   scripts/emulator.sh -p 5000
# Arguments go to moto_server (-H host, -p port). See emulator/serve.py for what differs
# from a plain moto_server.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="$("$root/scripts/ensure-moto.sh")"
exec "$python" "$root/emulator/serve.py" "$@"
