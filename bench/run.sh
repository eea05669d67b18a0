#!/usr/bin/env bash
# The HTTP benchmark (docs/benchmarks-http.md): builds Keyturn and the benchmark in Release, then runs
# `Keyturn.Bench run-all`, which starts a bare Kestrel baseline and a real `keyturn serve` as child
# processes, measures GetSecretValue and PutSecretValue at 1, 16 and 64 connections with SigV4-signed
# requests from separate load processes, measures memory with 100,000 secrets stored, and rewrites
# docs/benchmarks-http.md. Takes about 7 minutes; not run by CI (too long, and its numbers belong to the machine).
#
#   bench/run.sh [--duration 8] [--warmup 3] [--server-warmup 10] [--repetitions 3] [--connections 1,16,64]
#                [--seed-count 100000] [--puts-per-secret 50] [--report PATH] [--keep]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dotnet build "$repo/src/Keyturn.Cli/Keyturn.Cli.csproj" -c Release -nologo -v quiet
dotnet build "$repo/bench/Keyturn.Bench/Keyturn.Bench.csproj" -c Release -nologo -v quiet

exec dotnet "$repo/bench/Keyturn.Bench/bin/Release/net10.0/Keyturn.Bench.dll" run-all \
  --keyturn-dll "$repo/src/Keyturn.Cli/bin/Release/net10.0/keyturn.dll" "$@"
