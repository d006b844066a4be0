#!/usr/bin/env bash
# Installs sandboxd as a system service, from the repository root, as root: the
# binaries in /usr/local/bin (built first, optimized), the unit in
# /etc/systemd/system, the user sandboxd and its workspace directory /srv/work (the
# unit's ReadWritePaths). Then: systemctl enable --now sandboxd
#
# With ROOT=DIR it installs the binaries and the unit below DIR instead, and nothing
# else (for packaging; tools/check-deploy verifies the unit as installed there).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=${ROOT:-}
bazel build -c opt //server:sandboxd //server:sandboxd-launch //server:sandboxd-landlock-exec \
  //server:sandboxd-proxy //server:sandboxd-helper //client:sandboxctl
install -d "$root/usr/local/bin" "$root/etc/systemd/system"
install -m 0755 bazel-bin/server/sandboxd bazel-bin/server/sandboxd-launch \
  bazel-bin/server/sandboxd-landlock-exec bazel-bin/server/sandboxd-proxy bazel-bin/server/sandboxd-helper \
  bazel-bin/client/sandboxctl \
  "$root/usr/local/bin/"
install -m 0644 deploy/systemd/sandboxd.service "$root/etc/systemd/system/"
[ -z "$root" ] || exit 0
if ! getent passwd sandboxd >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin sandboxd
fi
install -d -o sandboxd -g sandboxd -m 0755 /srv/work
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
echo "install: now run: systemctl enable --now sandboxd" >&2
