#!/usr/bin/env bash
# Starts a single-node Garage (S3-compatible object store) on 127.0.0.1 for benchmarks and
# the quickstart, with a key and a bucket, and prints shell assignments for the caller to
# `eval`:
#   eval "$(bash scripts/start-garage.sh DIR [BUCKET])"
#   → GARAGE_PID, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
#     RSKILL_BLOBS_URL (s3://BUCKET/blobs)
# Everything lives in DIR (config, metadata, data, log); stop it with `kill $GARAGE_PID`.
# The binary comes from scripts/ensure-garage.sh (built once per machine).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="$(mkdir -p "$1" && cd "$1" && pwd)"
BUCKET="${2:-rskill}"
GARAGE="${RSKILL_GARAGE_BIN:-$(bash scripts/ensure-garage.sh)}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
S3_PORT="$(free_port)"; RPC_PORT="$(free_port)"
cat > "$DIR/garage.toml" <<CONF
metadata_dir = "$DIR/meta"
data_dir = "$DIR/data"
db_engine = "sqlite"
replication_factor = 1
# Weights do not compress; zstd on every block would only cost CPU on this shared machine.
compression_level = "none"
rpc_bind_addr = "127.0.0.1:$RPC_PORT"
rpc_public_addr = "127.0.0.1:$RPC_PORT"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$S3_PORT"
root_domain = ".s3.garage.localhost"
CONF
g() { "$GARAGE" -c "$DIR/garage.toml" "$@"; }
RUST_LOG=warn "$GARAGE" -c "$DIR/garage.toml" server > "$DIR/garage.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do g status > /dev/null 2>&1 && break; sleep 0.1; done
NODE="$(g node id -q 2>/dev/null | cut -c1-16)"
g layout assign -z dc1 -c 10G "$NODE" > /dev/null
g layout apply --version 1 > /dev/null
KEY_OUT="$(g key create rskill-bench)"
KEY_ID="$(awk -F': *' '/^Key ID/ {print $2}' <<< "$KEY_OUT")"
SECRET="$(awk -F': *' '/^Secret key/ {print $2}' <<< "$KEY_OUT")"
g bucket create "$BUCKET" > /dev/null
g bucket allow --read --write --owner "$BUCKET" --key rskill-bench > /dev/null
cat <<OUT
GARAGE_PID=$PID
export AWS_ENDPOINT_URL=http://127.0.0.1:$S3_PORT
export AWS_ACCESS_KEY_ID=$KEY_ID
export AWS_SECRET_ACCESS_KEY=$SECRET
export AWS_REGION=garage
export AWS_ALLOW_HTTP=true
RSKILL_BLOBS_URL=s3://$BUCKET/blobs
OUT
