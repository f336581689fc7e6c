#!/usr/bin/env bash
# Installs the IAM policy evaluator the policy tests use (@cloud-copilot/iam-simulate, pinned
# by cli/tests/policies/package-lock.json) into .local/policy-evaluator with `npm ci`, once:
# again only when the lock file changes. Safe to run concurrently (flock). Prints the folder
# whose node_modules holds it. Needs Node.js 18+ and npm.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source="$root/cli/tests/policies"
target="$root/.local/policy-evaluator"
stamp="$target/.installed-$(cat "$source/package.json" "$source/package-lock.json" | sha256sum | cut -c1-16)"

command -v npm >/dev/null || {
    echo "ensure-policy-evaluator: npm not found; install Node.js 18 or later" >&2
    exit 1
}
mkdir -p "$target"
exec 9>"$target.lock"
flock 9
if [[ ! -f "$stamp" ]]; then
    echo "ensure-policy-evaluator: npm ci into $target" >&2
    rm -rf "$target/node_modules" "$target"/.installed-*
    cp "$source/package.json" "$source/package-lock.json" "$target/"
    (cd "$target" && npm ci --no-audit --no-fund --loglevel=error >&2)
    touch "$stamp"
fi
echo "$target"
