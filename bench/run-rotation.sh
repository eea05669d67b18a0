#!/usr/bin/env bash
# The rotation benchmark: builds Keyturn and the benchmark in Release, then runs both parts against a
# throwaway PostgreSQL 15 and a real `keyturn serve` process, and rewrites docs/benchmarks-rotation.md
# (the index of every benchmark is docs/benchmarks.md; method notes and history in
# docs/benchmarks-rotation-history.md). Needs the Debian postgresql-15 package; as root, PostgreSQL runs
# via `runuser -u postgres`. Not run by CI: it takes a few minutes and its numbers depend on the machine.
#
#   bench/run-rotation.sh [--rotations N] [--secrets N] [--only single|bulk] [--report PATH] [--keep] ...
#
# The Markdown report is printed and written to --report (default docs/benchmarks-rotation.md); the builds
# go to $KEYTURN_BENCH_OUT (default /tmp/keyturn-bench-rotation).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${KEYTURN_BENCH_OUT:-/tmp/keyturn-bench-rotation}"
mkdir -p "$out/keyturn" "$out/bench"

dotnet build "$repo/src/Keyturn.Cli" -c Release -o "$out/keyturn" -nologo -v quiet
dotnet build "$repo/bench/Keyturn.Bench.Rotation" -c Release -o "$out/bench" -nologo -v quiet

# A later --report in "$@" wins over this default.
KEYTURN_REPO="$repo" dotnet "$out/bench/Keyturn.Bench.Rotation.dll" --keyturn-dll "$out/keyturn/keyturn.dll" \
  --report "$repo/docs/benchmarks-rotation.md" "$@"
