#!/usr/bin/env bash
# The CPU-per-request benchmark (docs/benchmarks-cpu.md, issue 13): builds Keyturn and the benchmark in Release, then
# runs `Keyturn.Bench cpu`, which pins a real `keyturn serve` and a bare Kestrel (`app.Run`, fixed 200) to the server
# CPUs with taskset (CPU 0 on a 2-core machine) and the load processes to the others, and measures per request the
# server's CPU time (utime+stime from /proc/PID/stat) and allocated bytes (the runtime's EventCounters, read over
# EventPipe from outside) for GetSecretValue, PutSecretValue and DescribeSecret, repetitions interleaved. Rewrites
# docs/benchmarks-cpu.md. About 15 minutes with the defaults; not run by CI (its numbers belong to the machine), and
# meaningless on a machine busy with other work (the report's "others on server CPU" column says how busy).
# `--store postgresql` starts a throwaway PostgreSQL 15 (durable commits, pinned with the server, its CPU per request
# reported) and writes docs/benchmarks-cpu-postgresql.md; `--store postgresql://...` uses a running one.
# `--caller iam` (the default) measures with an application key whose policy is evaluated on every request;
# `--caller root` with the root key. The bare Kestrel gets the thread-pool spin limit Keyturn ships in its runtimeconfig.json (if any),
# so both idle alike; `--baseline-env DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=46` (hexadecimal 70) gives it the runtime's default.
#
#   bench/run-cpu.sh [--duration 10] [--warmup 3] [--server-warmup 10] [--max-extra-warmup 120] [--repetitions 5] [--connections 1,16]
#                    [--operations GetSecretValue,PutSecretValue,DescribeSecret] [--store postgresql | postgresql://...] [--caller iam|root]
#                    [--server-cpus LIST] [--load-cpus LIST] [--baseline-env NAME=VALUE,...] [--report PATH] [--keep]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v taskset >/dev/null || { echo "run-cpu.sh needs taskset (Debian package util-linux)." >&2; exit 2; }
dotnet build "$repo/src/Keyturn.Cli/Keyturn.Cli.csproj" -c Release -nologo -v quiet
dotnet build "$repo/bench/Keyturn.Bench/Keyturn.Bench.csproj" -c Release -nologo -v quiet

exec dotnet "$repo/bench/Keyturn.Bench/bin/Release/net10.0/Keyturn.Bench.dll" cpu \
  --keyturn-dll "$repo/src/Keyturn.Cli/bin/Release/net10.0/keyturn.dll" "$@"
