#!/usr/bin/env bash
# Installs every Debian package (and the npm tools) that sandboxd's build, tests,
# checks and server need. Idempotent: does nothing, and needs no network, when
# everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # Build.
  bazel-bootstrap bazel-rules-java g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev libseccomp-dev libgtest-dev libgmock-dev prometheus-cpp-dev
  # Run.
  bubblewrap libboost-dev
  # Tests and checks.
  iproute2 procps git curl wget iputils-ping netcat-openbsd openssh-client openssl
  python3 python3-grpcio python3-protobuf python3-yaml python3-pip systemd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
# npm may come with a nodejs that is not Debian's; only install Debian's when absent.
command -v npm >/dev/null || missing+=(nodejs npm)

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The unprivileged user that a server running as root hands its commands to
# (sandboxd --command_user), and a place where it may work.
if ! getent passwd sandboxd-cmd >/dev/null; then
  echo "setup: creating the user sandboxd-cmd" >&2
  "${sudo_cmd[@]}" useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin sandboxd-cmd
fi
if [ ! -d /srv/sandboxd ]; then
  "${sudo_cmd[@]}" install -d -m 0755 -o sandboxd-cmd -g sandboxd-cmd /srv/sandboxd
fi

# buf (proto lint, breaking-change check, curl), pinned by tools/npm/package-lock.json.
if [ ! -x tools/npm/node_modules/.bin/buf ]; then
  echo "setup: installing npm tools" >&2
  npm ci --prefix tools/npm --no-audit --no-fund >&2
fi
