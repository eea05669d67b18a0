#!/usr/bin/env bash
# The rotation benchmark (docs/benchmarks-rotation.md): builds Keyturn and the benchmark in Release,
# then runs both parts against a throwaway PostgreSQL 15 and a real `keyturn serve` process.
# Needs the Debian postgresql-15 package; as root, PostgreSQL runs via `runuser -u postgres`.
# Not run by CI: it takes a few minutes and its numbers depend on the machine.
#
#   bench/run-rotation.sh [--rotations N] [--secrets N] [--only single|bulk] [--keep] ...
#
# The Markdown report is printed and written to $KEYTURN_BENCH_OUT (default /tmp/keyturn-bench-rotation).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${KEYTURN_BENCH_OUT:-/tmp/keyturn-bench-rotation}"
mkdir -p "$out/keyturn" "$out/bench"

dotnet build "$repo/src/Keyturn.Cli" -c Release -o "$out/keyturn" -nologo -v quiet
dotnet build "$repo/bench/Keyturn.Bench.Rotation" -c Release -o "$out/bench" -nologo -v quiet

dotnet "$out/bench/Keyturn.Bench.Rotation.dll" --keyturn-dll "$out/keyturn/keyturn.dll" --report "$out/report.md" "$@"
echo "Report written to $out/report.md" >&2
