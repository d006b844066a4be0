#!/usr/bin/python3
"""Runs the server as the Kubernetes manifest runs it, and checks it as the kubelet and
a client would. Usage: check_k8s_live.py MANIFEST (from the repository root, as root,
after a build).

The container's arguments are the manifest's own: its ConfigMap policy, with
certificates and tokens generated here in the Secrets' place. The only changes are
where things are: each volume's mount path lies under a scratch directory (but
/workspace, which the policy names), and each container port is a free loopback port.
The server runs as the pod's runAsUser/runAsGroup without capabilities. Then:
  - both probes, as the kubelet makes them: plaintext grpc.health.v1 Check, with the
    probe's service name, within its timeout; and, as the control, the same probe at
    the TLS port the manifest once pointed them at, which fails;
  - deploy/k8s/README.md's request, over TLS with a client's token, under the shipped
    policy, setting none of the fields the policy bounds;
  - SIGTERM: readiness turns NOT_SERVING, liveness stays SERVING, and the server exits
    within terminationGracePeriodSeconds.
Prints "ok NAME" or "FAIL NAME: why" per check; exits 1 if any failed."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.getcwd()
failed = False


def report(name, ok, why=""):
    global failed
    print(f"ok {name}" if ok else f"FAIL {name}: {why}")
    failed = failed or not ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(manifest):
    with open(manifest) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    by_kind = {d["kind"]: d for d in docs}
    return by_kind["Deployment"], by_kind["ConfigMap"]


def generate_stubs(out):
    subprocess.run([f"{ROOT}/client/python/generate.sh", out], check=True,
                   stdout=subprocess.DEVNULL)
    # At the top level, as health_pb2: under grpc/ it would hide the grpc package.
    shutil.copy("/usr/share/grpc-proto/grpc/health/v1/health.proto", f"{out}/health.proto")
    subprocess.run(["protoc", f"-I{out}", f"--python_out={out}", f"--grpc_python_out={out}",
                    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                    f"{out}/health.proto"], check=True)
    sys.path[:0] = [out, f"{ROOT}/client/python"]


def make_secrets(scratch, mounts, uid, gid):
    """The Secrets and the ConfigMap the pod mounts, as files, by volume name."""
    tls = mounts["tls"]
    os.makedirs(tls)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=sandboxd", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", f"{tls}/tls.key", "-out", f"{tls}/tls.crt"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.makedirs(mounts["tokens"])
    with open(f"{mounts['tokens']}/tokens", "w") as f:
        f.write("agent-backend k8s-check-token\n")
    os.makedirs(mounts["metrics-auth"])
    with open(f"{mounts['metrics-auth']}/auth", "w") as f:
        f.write("prometheus:k8s-check-password\n")
    for volume in ("tls", "tokens", "metrics-auth"):
        for dirpath, _, files in os.walk(mounts[volume]):
            for name in [""] + files:
                os.chown(os.path.join(dirpath, name), uid, gid)


# The pod's name, as the kubelet would give the container's POD_NAME.
POD_NAME = "sandboxd-check-0"


def container_args(container, mounts, ports):
    """The manifest's arguments, with mount paths and ports moved as described above,
    and $(VAR) references to the container's environment expanded as the kubelet does
    (only fieldRef metadata.name is defined here)."""
    env = {}
    for var in container.get("env", []):
        field = var.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if field != "metadata.name":
            raise SystemExit(f"check_k8s_live: cannot give {var['name']} a value")
        env[var["name"]] = POD_NAME
    args = []
    for arg in container["args"]:
        for name, value in env.items():
            arg = arg.replace(f"$({name})", value)
        for mount_path, scratch_path in mounts.items():
            arg = arg.replace(f"={mount_path}", f"={scratch_path}")
        for port, local in ports.items():
            arg = arg.replace(f"0.0.0.0:{port}", f"127.0.0.1:{local}")
        args.append(arg)
    return args


def probe(port, spec_probe):
    """A probe as the kubelet sends it: plaintext, no credentials, its service."""
    import grpc
    import health_pb2
    import health_pb2_grpc
    timeout = spec_probe.get("timeoutSeconds", 1)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service=spec_probe["grpc"].get("service", ""))
        try:
            return health_pb2.HealthCheckResponse.ServingStatus.Name(
                stub.Check(request, timeout=timeout).status)
        except grpc.RpcError as error:
            return f"{error.code().name}: {error.details()}"


def exec_quietly(port, ca, workspace):
    try:
        readme_request(port, ca, workspace, ["sleep", "3"])
    except Exception:  # What it returns does not matter.
        pass


def readme_request(port, ca, workspace, argv=None):
    """deploy/k8s/README.md's request, as agent-backend."""
    import grpc
    from sandbox.v1 import sandbox_pb2, sandbox_pb2_grpc
    with open(ca, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    with grpc.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        stub = sandbox_pb2_grpc.SandboxServiceStub(channel)
        request = sandbox_pb2.ExecRequest(
            argv=argv or ["sh", "-c", "echo hi > note.txt && cat note.txt"], cwd=workspace,
            policy=sandbox_pb2.SandboxPolicy(mode=sandbox_pb2.WORKSPACE_WRITE),
            output_encoding=sandbox_pb2.OUTPUT_TEXT)
        return stub.Exec(request, timeout=60,
                         metadata=[("authorization", "Bearer k8s-check-token")])


def replica_checks(port, ca, workspace):
    """A process's id names this pod; a call about another pod's says where it lives."""
    import grpc
    from sandbox.v1 import sandbox_pb2, sandbox_pb2_grpc
    with open(ca, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    auth = [("authorization", "Bearer k8s-check-token")]
    with grpc.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        stub = sandbox_pb2_grpc.SandboxServiceStub(channel)
        started = stub.StartProcess(sandbox_pb2.StartProcessRequest(
            exec=sandbox_pb2.ExecRequest(argv=["true"], cwd=workspace)), timeout=30, metadata=auth)
        report("k8s-process-id-names-the-pod", started.process_id.endswith("@" + POD_NAME),
               started.process_id)
        elsewhere = started.process_id.split("@")[0] + "@sandboxd-other-1"
        try:
            stub.ReadProcess(sandbox_pb2.ReadProcessRequest(process_id=elsewhere), timeout=30,
                             metadata=auth)
            report("k8s-elsewhere-says-where", False, "the read succeeded")
        except grpc.RpcError as error:
            trailing = dict(error.trailing_metadata() or ())
            report("k8s-elsewhere-says-where",
                   error.code() == grpc.StatusCode.FAILED_PRECONDITION and
                   trailing.get("sandboxd-replica") == "sandboxd-other-1",
                   f"{error.code()} {error.details()} {trailing}")


def wait_for_port(port, process, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline and process.poll() is None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def main(manifest):
    deployment, config_map = load(manifest)
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    uid, gid = pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]
    grace = pod.get("terminationGracePeriodSeconds", 30)
    scratch = tempfile.mkdtemp(prefix="sandboxd-k8s.", dir="/var/tmp")
    os.chmod(scratch, 0o755)
    made_workspace_root = not os.path.exists("/workspace")
    workspace = None
    server = None
    try:
        volumes = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        mounts = {path: f"{scratch}{path}" for name, path in volumes.items()
                  if path not in ("/workspace", "/tmp")}
        by_volume = {name: mounts.get(path) for name, path in volumes.items()}
        ports = {p["containerPort"]: free_port() for p in container["ports"]}
        os.makedirs(by_volume["policy"])
        for key, text in config_map["data"].items():
            with open(f"{by_volume['policy']}/{key}", "w") as f:
                f.write(text)
        make_secrets(scratch, by_volume, uid, gid)
        os.makedirs(by_volume["state"], mode=0o700)
        os.chown(by_volume["state"], uid, gid)
        os.makedirs("/workspace", exist_ok=True)
        workspace = tempfile.mkdtemp(prefix="k8s-check.", dir="/workspace")
        os.chown(workspace, uid, gid)
        os.chmod(workspace, 0o755)
        # The image's binaries, where the pod's user can run them.
        os.makedirs(f"{scratch}/bin")
        for binary in ("sandboxd", "sandboxd-launch", "sandboxd-landlock-exec", "sandboxd-proxy",
                       "sandboxd-helper"):
            shutil.copy(f"{ROOT}/bazel-bin/server/{binary}", f"{scratch}/bin/{binary}")
        generate_stubs(f"{scratch}/gen")

        command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                   "--inh-caps=-all", "--bounding-set=-all", "--",
                   f"{scratch}/bin/sandboxd"] + container_args(container, mounts, ports)
        log = open(f"{scratch}/server.log", "w")
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        named = {p["name"]: p["containerPort"] for p in container["ports"]}
        health_port = ports[container["livenessProbe"]["grpc"]["port"]]
        if not wait_for_port(health_port, server) or not wait_for_port(ports[named["grpc"]], server):
            report("k8s-server-starts", False, open(f"{scratch}/server.log").read())
            return
        report("k8s-server-starts", True)

        for name in ("livenessProbe", "readinessProbe"):
            spec_probe = container[name]
            status = probe(ports[spec_probe["grpc"]["port"]], spec_probe)
            report(f"k8s-{name}", status == "SERVING", status)
        # The control: a plaintext probe at the TLS port fails.
        status = probe(ports[named["grpc"]], {"grpc": {}})
        report("k8s-probe-at-the-tls-port-fails", status != "SERVING", status)

        try:
            response = readme_request(ports[named["grpc"]], f"{by_volume['tls']}/tls.crt",
                                      workspace)
            report("k8s-readme-request", response.exit_code == 0 and response.stdout_text == "hi\n",
                   str(response))
        except Exception as error:  # grpc.RpcError, with the server's message.
            report("k8s-readme-request", False, str(error))

        try:
            replica_checks(ports[named["grpc"]], f"{by_volume['tls']}/tls.crt", workspace)
        except Exception as error:
            report("k8s-process-id-names-the-pod", False, str(error))

        # A command still runs, so that the server drains for a while.
        import threading
        running = threading.Thread(target=lambda: exec_quietly(ports[named["grpc"]],
                                                               f"{by_volume['tls']}/tls.crt",
                                                               workspace))
        running.start()
        time.sleep(0.5)
        start = time.time()
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        liveness = probe(health_port, container["livenessProbe"])
        readiness = probe(ports[container["readinessProbe"]["grpc"]["port"]],
                          container["readinessProbe"])
        report("k8s-draining-liveness-stays-serving", liveness == "SERVING", liveness)
        report("k8s-draining-readiness-not-serving", readiness == "NOT_SERVING", readiness)
        running.join()
        try:
            server.wait(timeout=grace)
            report("k8s-exits-within-the-grace-period", server.returncode == 0,
                   f"exit status {server.returncode}")
        except subprocess.TimeoutExpired:
            report("k8s-exits-within-the-grace-period", False,
                   f"still running {time.time() - start:.0f}s after SIGTERM")
    finally:
        if server is not None and server.poll() is None:
            server.kill()
            server.wait()
        if failed:
            print(open(f"{scratch}/server.log").read() if os.path.exists(f"{scratch}/server.log")
                  else "", file=sys.stderr)
        shutil.rmtree(scratch, ignore_errors=True)
        if workspace is not None:
            shutil.rmtree(workspace, ignore_errors=True)
        if made_workspace_root:
            shutil.rmtree("/workspace", ignore_errors=True)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("ok k8s-live (skipped: needs root, to run the server as the pod's user)")
        sys.exit(0)
    main(sys.argv[1])
    sys.exit(1 if failed else 0)
