#!/usr/bin/env bash
# The cluster benchmark (docs/benchmarks-cluster.md, issue 12): builds Keyturn and the benchmark in Release, then runs
# `Keyturn.Bench cluster`, which starts a throwaway PostgreSQL 15 (restarted with durable commits), one `keyturn serve`
# on the embedded SQLite store and N nodes on the PostgreSQL store (`--store postgresql://...`, same master key and root
# credentials), drives GetSecretValue and PutSecretValue on SQLite and on 1..N nodes behind a round-robin client with
# repetitions interleaved, samples PostgreSQL's and the nodes' CPU and pg_stat_activity over every window, then kills
# (SIGKILL) the node running a rotation and times its completion on another node. Rewrites docs/benchmarks-cluster.md.
# About 10 minutes with the defaults. Needs the Debian postgresql-15 package (as root, PostgreSQL runs via
# `runuser -u postgres`) and a Keyturn build with `serve --store`; without one it says so and stops (exit code 3),
# unless `--only sqlite` asks for the embedded store alone. Not run by CI: its numbers belong to the machine.
#
#   bench/run-cluster.sh [--only sqlite,postgres,failover] [--nodes 3] [--duration 10] [--warmup 3]
#                        [--server-warmup 8] [--repetitions 3] [--connections 16] [--failovers 3]
#                        [--lease-lifetime 15] [--scheduler-interval 1] [--report PATH] [--keep]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dotnet build "$repo/src/Keyturn.Cli/Keyturn.Cli.csproj" -c Release -nologo -v quiet
dotnet build "$repo/bench/Keyturn.Bench/Keyturn.Bench.csproj" -c Release -nologo -v quiet

exec dotnet "$repo/bench/Keyturn.Bench/bin/Release/net10.0/Keyturn.Bench.dll" cluster \
  --keyturn-dll "$repo/src/Keyturn.Cli/bin/Release/net10.0/keyturn.dll" "$@"
