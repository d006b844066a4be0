#!/usr/bin/env bash
# Generates the Python stubs of sandbox.v1 into DIR (default: client/python/gen), with
# Debian's protoc and grpc_python_plugin. Put DIR and client/python on PYTHONPATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/client/python/gen}
mkdir -p "$out"
protoc -I"$root/proto" -I/usr/include --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  "$root/proto/sandbox/v1/sandbox.proto"
