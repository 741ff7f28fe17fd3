#!/usr/bin/env bash
# Benchmark of rskill-hub: listing latency over 10,000 repos and serving a 1 GiB file
# (throughput and the server's peak RSS). Builds release, generates its inputs in a temp
# directory at run time (about 1.1 GiB of disk), and prints the figures with the targets.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --bench hub
