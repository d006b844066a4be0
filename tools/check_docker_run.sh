#!/usr/bin/env bash
# Runs the image's ENTRYPOINT and CMD as deploy/docker/README.md runs the container, on
# this machine (as root, after a build): in a mount namespace of its own, with the
# image's users and groups, its binaries in /usr/local/bin, the socket directory made
# as the README says, the server as uid 10001 with the image's groups, no capabilities,
# under deploy/docker/seccomp.json applied as Docker applies it. Then a client of
# another uid in group 10002 runs the README's command, one outside it is refused (the
# control), and the HEALTHCHECK passes. Prints "ok NAME" or "FAIL NAME" per check.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "ok docker-run (skipped: needs root, for a mount namespace and other users)"
  exit 0
fi
exec_form() {  # exec_form PATTERN: the JSON array on the Dockerfile's line PATTERN, as words
  grep -E "$1" deploy/docker/Dockerfile | sed -E 's/^[^[]*//' |
    /usr/bin/python3 -c 'import json, shlex, sys; print(shlex.join(json.load(sys.stdin)))'
}
entrypoint=$(exec_form '^ENTRYPOINT \[')
cmd=$(exec_form '^CMD \[')
healthcheck=$(exec_form '^ +CMD \[')  # HEALTHCHECK's, on its continuation line.
bazel build //server:sandboxd //client:sandboxctl //tests:docker_seccomp_exec >/dev/null 2>&1 ||
  { echo "FAIL docker-run: the build failed"; exit 1; }
scratch=$(mktemp -d /var/tmp/sandboxd-docker.XXXXXX)
chmod 755 "$scratch"
made_workspace=0
[ -e /workspace ] || { mkdir /workspace; made_workspace=1; }
cp bazel-bin/server/sandboxd bazel-bin/server/sandboxd-launch \
   bazel-bin/server/sandboxd-landlock-exec bazel-bin/server/sandboxd-proxy bazel-bin/server/sandboxd-helper bazel-bin/client/sandboxctl \
   bazel-bin/tests/docker_seccomp_exec deploy/docker/seccomp.json "$scratch/"
status=0
unshare --mount --propagation private bash -c '
  set -u
  scratch=$1 entrypoint=$2 cmd=$3 healthcheck=$4
  # The image: its users and groups, its binaries, its directories.
  cp /etc/passwd /etc/group "$scratch/"
  echo "sandboxd:x:10001:10001::/nonexistent:/usr/sbin/nologin" >> "$scratch/passwd"
  printf "sandboxd:x:10001:\nsandboxd-clients:x:10002:sandboxd\n" >> "$scratch/group"
  mount --bind "$scratch/passwd" /etc/passwd && mount --bind "$scratch/group" /etc/group
  mount -t tmpfs tmpfs /usr/local/bin && cp "$scratch"/sandbox* /usr/local/bin/
  mount -t tmpfs tmpfs /workspace && chown 10001:10001 /workspace
  mount -t tmpfs tmpfs /var/lib && install -d -o 10001 -g 10001 -m 0700 /var/lib/sandboxd
  mount -t tmpfs tmpfs /run
  # As deploy/docker/README.md says, on the host.
  install -d -o 10001 -g 10002 -m 0710 /run/sandboxd
  eval "exec setpriv --reuid=10001 --regid=10001 --init-groups --inh-caps=-all --bounding-set=-all \
    -- $scratch/docker_seccomp_exec $scratch/seccomp.json -- $entrypoint $cmd" \
    > "$scratch/server.log" 2>&1 &
  server=$!
  for _ in $(seq 200); do [ -S /run/sandboxd/sandboxd.sock ] && break; sleep 0.05; done
  client() {  # client GID ARGS...: sandboxctl as uid 20001 with group GID only
    local gid=$1
    shift
    setpriv --reuid=20001 --regid="$gid" --clear-groups -- /usr/local/bin/sandboxctl "$@"
  }
  failed=0
  out=$(client 10002 --server=/run/sandboxd/sandboxd.sock exec --cwd=/workspace -- ls -ld . 2>&1)
  if [ $? -eq 0 ]; then echo "ok docker-run-client-in-the-group"; else
    echo "FAIL docker-run-client-in-the-group: $out"; failed=1; fi
  out=$(client 20001 --server=/run/sandboxd/sandboxd.sock exec --cwd=/workspace -- true 2>&1)
  if [ $? -ne 0 ] && [[ "$out" == *"ermission denied"* ]]; then
    echo "ok docker-run-client-outside-the-group-is-refused"; else
    echo "FAIL docker-run-client-outside-the-group-is-refused: $out"; failed=1; fi
  if out=$(eval "setpriv --reuid=10001 --regid=10001 --init-groups -- $healthcheck" 2>&1); then
    echo "ok docker-run-healthcheck"; else echo "FAIL docker-run-healthcheck: $out"; failed=1; fi
  kill $server; wait $server
  [ $failed -eq 0 ] || sed "s/^/  server: /" "$scratch/server.log"
  exit $failed
' _ "$scratch" "$entrypoint" "$cmd" "$healthcheck" || status=1
rm -rf "$scratch"
[ $made_workspace -eq 0 ] || rmdir /workspace
exit $status
