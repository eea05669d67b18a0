#!/usr/bin/env bash
# The doctor benchmark (docs/benchmarks-doctor.md): builds Keyturn and the benchmark in Release, then runs
# both parts against a throwaway PostgreSQL 15 and a real `keyturn serve` process, with the doctor run as
# the real `keyturn doctor` process. Needs the Debian postgresql-15 package; as root, PostgreSQL runs via
# `runuser -u postgres`. Not run by CI: it takes several minutes and its numbers depend on the machine.
#
#   bench/run-doctor.sh [--doc] [--repetitions N] [--secrets N] [--stuck N] [--all-runs N] [--only one|all] [--variant "ARGS"] [--keep] ...
#
# The Markdown report is printed and written to $KEYTURN_BENCH_OUT/report.md (default /tmp/keyturn-bench-doctor);
# with --doc it also replaces docs/benchmarks-doctor.md (a missed target still writes it: the report says so).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${KEYTURN_BENCH_OUT:-/tmp/keyturn-bench-doctor}"
mkdir -p "$out/keyturn" "$out/bench"

dotnet build "$repo/src/Keyturn.Cli" -c Release -o "$out/keyturn" -nologo -v quiet
dotnet build "$repo/bench/Keyturn.Bench.Doctor" -c Release -o "$out/bench" -nologo -v quiet

doc=0
args=()
for arg in "$@"; do
  if [[ "$arg" == "--doc" ]]; then doc=1; else args+=("$arg"); fi
done

status=0
dotnet "$out/bench/Keyturn.Bench.Doctor.dll" --keyturn-dll "$out/keyturn/keyturn.dll" --report "$out/report.md" "${args[@]}" || status=$?
echo "Report written to $out/report.md" >&2
if [[ $doc == 1 && -s "$out/report.md" ]]; then
  cp "$out/report.md" "$repo/docs/benchmarks-doctor.md"
  echo "and to docs/benchmarks-doctor.md" >&2
fi
exit $status
