#!/usr/bin/env bash
# Builds the deployable Lambda packages once: target/lambda/<binary>/bootstrap.zip for the
# router, thumbnail, extractor, compliance-checker, sweeper and canary binaries (release, x86_64, linked
# against the glibc of the provided.al2023 runtime through zig). cargo-lambda is installed
# from PyPI (pinned) into .local/cargo-lambda-venv on first use.
#
# The zips are byte-for-byte reproducible (fixed timestamps and permissions), so terraform,
# which passes each by path and content hash, redeploys only the functions whose binary
# changed. Usage: scripts/build-lambdas.sh [--arm64]   (arm64 needs the aarch64 target
# installed: rustup target add aarch64-unknown-linux-gnu)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.local/cargo-lambda-venv"
pin="cargo-lambda==1.9.2"
binaries=(router thumbnail extractor compliance-checker sweeper canary)

arch_flag=()
case "${1:-}" in
    "") ;;
    --arm64) arch_flag=(--arm64) ;;
    -h | --help)
        sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "build-lambdas: unknown argument $1 (try --help)" >&2
        exit 2
        ;;
esac

"$root/scripts/ensure-venv.sh" "$venv" "$pin"
export PATH="$venv/bin:$PATH"

cd "$root"
bin_flags=()
for binary in "${binaries[@]}"; do bin_flags+=(--bin "$binary"); done
echo "build-lambdas: cargo lambda build --release ${arch_flag[*]} (a clean build takes ~10 min on 2 cores)" >&2
cargo lambda build --release --locked "${arch_flag[@]}" "${bin_flags[@]}"

# cargo-lambda stamps the current time into each zip; rebuild them with fixed metadata so the
# same binary always gives the same content hash.
for binary in "${binaries[@]}"; do
    "$venv/bin/python" - "target/lambda/$binary" <<'PY'
import sys, zipfile, pathlib
directory = pathlib.Path(sys.argv[1])
entry = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
entry.external_attr = 0o100755 << 16
entry.compress_type = zipfile.ZIP_DEFLATED
with zipfile.ZipFile(directory / "bootstrap.zip", "w") as package:
    package.writestr(entry, (directory / "bootstrap").read_bytes())
PY
    printf '%s  %s\n' "$(sha256sum "target/lambda/$binary/bootstrap.zip" | cut -c1-64)" \
        "target/lambda/$binary/bootstrap.zip"
done
