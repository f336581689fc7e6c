#!/usr/bin/env bash
# Runs every check and test: formatting, terraform fmt/validate, clippy (warnings are
# errors), then the whole workspace's tests, including those that talk to the local AWS
# emulator (installed on first use into .local/, see scripts/ensure-moto.sh). Tests over the
# real-world corpus run when TRIAGE_CORPUS_DIR names it, and are listed as skipped otherwise.
# Needs: a Rust toolchain, Python 3, Terraform, Node.js 18+ with npm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "installing the pinned AWS emulator (moto server) if needed"
scripts/ensure-moto.sh >/dev/null

step "installing the pinned IAM policy evaluator (npm) if needed"
scripts/ensure-policy-evaluator.sh >/dev/null

step "cargo fmt --check"
cargo fmt --all --check

step "terraform fmt -check and validate (every environment)"
scripts/check-terraform.sh

step "hadolint container/Dockerfile (the image is built where Docker runs; the binary is tested here)"
scripts/lint-dockerfile.sh

step "cargo clippy (-D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo build --bins (the binaries the local-stack tests run)"
# cargo test builds a package's binaries only for that package's own integration tests; the
# local stack runs every deployed binary, those of packages without such tests too. The same
# dev build cargo test makes, so nothing compiles twice.
cargo build --workspace --bins --locked

step "cargo test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Doc tests are left out: the crates have none, and their empty runs would end the output.
cargo test --workspace --locked --lib --bins --tests 2>&1 | tee "$log"
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "\n%d passed, %d failed\n", passed, failed }' "$log"
# Tests over the real-world corpus say when they skip (TRIAGE_CORPUS_DIR unset); list them.
skipped="$(grep -c '^skipped ' "$log" || true)"
if [ "$skipped" -gt 0 ]; then
    printf '%d corpus tests skipped (set TRIAGE_CORPUS_DIR to run them):\n' "$skipped"
    grep '^skipped ' "$log" | sed 's/^skipped \([^:]*\):.*/  \1/'
fi
