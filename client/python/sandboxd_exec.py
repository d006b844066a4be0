#!/usr/bin/python3
"""Runs a command in sandboxd and streams its output, like `sandboxctl exec`.

    client/python/sandboxd_exec.py [--server ADDR] [--cwd DIR] [--writable] [--network]
                                   [--timeout SECONDS] -- CMD [ARGS...]

Exits with the command's exit code (128 + signal when killed, 124 on timeout, 125 when
it could not run).
"""

import argparse
import os
import sys

import grpc

import sandboxd_client
from sandbox.v1 import sandbox_pb2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get(
        "SANDBOXD_ADDRESS", "unix:/run/sandboxd/sandboxd.sock"))
    parser.add_argument("--cwd", default=os.getcwd())
    parser.add_argument("--writable", action="store_true", help="make the cwd writable")
    parser.add_argument("--network", action="store_true", help="enable the network")
    parser.add_argument("--timeout", type=int, help="seconds before the command is killed")
    parser.add_argument("argv", nargs="+", help="the command and its arguments")
    args = parser.parse_args()

    def write(stream, data):
        out = sys.stdout.buffer if stream == sandboxd_client.STDOUT else sys.stderr.buffer
        out.write(data)
        out.flush()

    with sandboxd_client.connect(args.server, os.environ.get("SANDBOXD_TOKEN")) as channel:
        try:
            result = sandboxd_client.run(channel, args.argv, cwd=args.cwd, writable=args.writable,
                                         network=args.network, timeout_s=args.timeout,
                                         on_output=write)
        except grpc.RpcError as error:
            print(f"sandboxd_exec: {error.details()}", file=sys.stderr)
            return 125
    if result.termination == sandbox_pb2.TIMED_OUT:
        return 124
    if result.termination == sandbox_pb2.SIGNALED:
        return 128 + result.signal
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
