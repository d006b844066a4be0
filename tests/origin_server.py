"""Test origin web server for end-to-end tests of sandboxd's HTTP(S) forward proxy.

A test starts this as a subprocess, waits for DIR/ready.json and then sends
requests through the proxy to the ports listed there:

    /usr/bin/python3 tests/origin_server.py --state DIR [--bind ADDR]... [--name NAME]...

At start it makes a throwaway CA (DIR/ca.pem, DIR/ca.key) and a server
certificate (DIR/server.pem, DIR/server.key) covering every --name plus
localhost, 127.0.0.1, 127.0.0.2 and ::1.  For each --bind address (default
127.0.0.1; IPv6 works) it serves plain HTTP and HTTPS on ephemeral ports, then
writes DIR/ready.json atomically:

    {"ca": "/abs/DIR/ca.pem", "pid": 123,
     "servers": [{"bind": "127.0.0.1", "http_port": 40001, "https_port": 40002}]}

It runs until SIGTERM or SIGINT (exit status 0) or until its stdin reaches EOF,
so a parent that dies takes it down; give it a pipe as stdin, not /dev/null.

Endpoints, the same on every server:
    GET /hello           "hello from origin <Host>\\n"
    GET /bytes/N         N bytes of the pattern 00 01 .. ff 00 01 ..  (HEAD too)
    ANY /echo...         JSON: method, raw request-target, headers, body_length
    GET /hold            "holding\\n", then keeps the connection open until the
                         peer closes it (at most 120 s)
    GET /stats           JSON: open_holds, closed_holds, requests, hosts
    GET /simple/...      a PEP 503 index with one project, sbxdemo 1.0, whose
    GET /packages/...    wheel holds sbxdemo.py with VALUE = 42
    GET /-/ping          {} (what `npm ping` asks a registry)
    ANY /git/...         git's smart HTTP protocol (`git http-backend`) for one
                         repository, demo.git, whose README says "demo repository"
Anything else is 404.
"""

import argparse
import base64
import hashlib
import http.server
import io
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import zipfile

# 1 MiB, a multiple of 256, so consecutive writes continue the pattern.
PATTERN_CHUNK = bytes(range(256)) * 4096
HOLD_POLL_SECONDS = 0.05
HOLD_MAX_SECONDS = 120
HANDSHAKE_TIMEOUT_SECONDS = 30
CERT_DAYS = 2
ALWAYS_DNS = ["localhost"]
ALWAYS_IPS = ["127.0.0.1", "127.0.0.2", "::1"]

PROJECT = "sbxdemo"
WHEEL_NAME = "sbxdemo-1.0-py3-none-any.whl"
DIST_INFO = "sbxdemo-1.0.dist-info"

# ---------------------------------------------------------------- certificates

CA_CONFIG = """\
[req]
prompt = no
distinguished_name = dn
x509_extensions = ext
[dn]
CN = sandboxd test origin CA
[ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""

SERVER_CONFIG = """\
[req]
prompt = no
distinguished_name = dn
[dn]
CN = sandboxd test origin
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = @san
[san]
"""

EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"]


def run_openssl(*args):
    result = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"origin_server: openssl {args[0]} failed:\n{result.stderr}")


def san_lines(names):
    dns = [f"DNS.{i} = {name}" for i, name in enumerate(ALWAYS_DNS + names)]
    ips = [f"IP.{i} = {ip}" for i, ip in enumerate(ALWAYS_IPS)]
    return "\n".join(dns + ips) + "\n"


def make_certificates(state, names):
    """Writes ca.pem, ca.key, server.pem and server.key into state."""
    ca_cert, ca_key = os.path.join(state, "ca.pem"), os.path.join(state, "ca.key")
    cert, key = os.path.join(state, "server.pem"), os.path.join(state, "server.key")
    with tempfile.TemporaryDirectory() as scratch:
        ca_config = os.path.join(scratch, "ca.cnf")
        server_config = os.path.join(scratch, "server.cnf")
        csr = os.path.join(scratch, "server.csr")
        with open(ca_config, "w") as f:
            f.write(CA_CONFIG)
        with open(server_config, "w") as f:
            f.write(SERVER_CONFIG + san_lines(names))
        run_openssl("req", "-x509", "-new", "-config", ca_config, *EC_KEY,
                    "-keyout", ca_key, "-out", ca_cert, "-days", str(CERT_DAYS), "-sha256")
        run_openssl("req", "-new", "-config", server_config, *EC_KEY,
                    "-keyout", key, "-out", csr)
        run_openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
                    "-set_serial", "0x" + secrets.token_hex(16), "-days", str(CERT_DAYS),
                    "-sha256", "-extfile", server_config, "-extensions", "ext", "-out", cert)
    return ca_cert, cert, key


def make_ssl_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    return context

# ---------------------------------------------------------------------- wheel


def record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_wheel():
    """Returns the bytes of a pure-Python wheel for sbxdemo 1.0."""
    files = {
        "sbxdemo.py": b"VALUE = 42\n",
        f"{DIST_INFO}/METADATA": b"Metadata-Version: 2.1\nName: sbxdemo\nVersion: 1.0\n",
        f"{DIST_INFO}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: origin_server\n"
                               b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
    }
    record = "".join(f"{name},{record_hash(data)},{len(data)}\n" for name, data in files.items())
    files[f"{DIST_INFO}/RECORD"] = (record + f"{DIST_INFO}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            wheel.writestr(info, data)
    return buffer.getvalue()


def normalize_project(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def html_page(links):
    anchors = "".join(f'<a href="{href}">{text}</a><br>\n' for href, text in links)
    return f"<!DOCTYPE html>\n<html><body>\n{anchors}</body></html>\n".encode()

# ---------------------------------------------------------------- shared state


def make_git_repository(state):
    """DIR/git/demo.git, a bare repository with one commit; returns DIR/git."""
    root = os.path.join(state, "git")
    work = os.path.join(state, "git-work")
    for path in (root, work):
        subprocess.run(["rm", "-rf", path], check=True)
    os.makedirs(work)
    with open(os.path.join(work, "README"), "w") as readme:
        readme.write("demo repository\n")
    git = ["git", "-C", work, "-c", "user.name=origin", "-c", "user.email=origin@test"]
    subprocess.run(["git", "init", "-q", work], check=True)
    subprocess.run(git + ["add", "README"], check=True)
    subprocess.run(git + ["commit", "-qm", "demo"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", work, os.path.join(root, "demo.git")],
                   check=True)
    return root


class Origin:
    """State shared by all servers: counters, the package index, the git repository."""

    def __init__(self, wheel, git_root):
        self.wheel = wheel
        self.git_root = git_root
        self.wheel_sha256 = hashlib.sha256(wheel).hexdigest()
        self.lock = threading.Lock()
        self.requests = 0
        self.hosts = set()
        self.open_holds = 0
        self.closed_holds = 0

    def count_request(self, host):
        with self.lock:
            self.requests += 1
            if host is not None:
                self.hosts.add(host)

    def hold_started(self):
        with self.lock:
            self.open_holds += 1

    def hold_ended(self, peer_closed):
        with self.lock:
            self.open_holds -= 1
            if peer_closed:
                self.closed_holds += 1

    def stats(self):
        with self.lock:
            return {"open_holds": self.open_holds, "closed_holds": self.closed_holds,
                    "requests": self.requests, "hosts": sorted(self.hosts)}

# -------------------------------------------------------------------- handler


def target_path(target):
    """The path of a request-target in origin form or absolute form."""
    if target.startswith("/"):
        return target.split("?", 1)[0]
    return urllib.parse.urlsplit(target).path


def wait_for_peer_close(sock):
    """Blocks until the peer closes sock (True) or HOLD_MAX_SECONDS pass (False)."""
    sock.settimeout(HOLD_POLL_SECONDS)
    deadline = time.monotonic() + HOLD_MAX_SECONDS
    while time.monotonic() < deadline:
        try:
            if not sock.recv(4096):
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


class OriginHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "origin_server"

    GET_ROUTES = [
        (re.compile(r"/hello"), "hello"),
        (re.compile(r"/hold"), "hold"),
        (re.compile(r"/stats"), "stats"),
        (re.compile(r"/bytes/(\d+)"), "bytes"),
        (re.compile(r"/simple/"), "simple_index"),
        (re.compile(r"/simple/([^/]+)/?"), "simple_project"),
        (re.compile(r"/packages/([^/]+)"), "package"),
        (re.compile(r"/-/ping"), "ping"),
    ]

    def log_message(self, format, *args):
        pass

    def log_error(self, format, *args):
        sys.stderr.write(f"origin_server: {self.address_string()}: {format % args}\n")

    def dispatch(self):
        origin = self.server.origin
        origin.count_request(self.headers.get("Host"))
        target = self.requestline.split()[1]
        if target_path(target).startswith("/git/"):
            return self.git(target)
        try:
            body_length = self.read_body()
        except ValueError:
            self.close_connection = True
            return self.respond(400, "text/plain", b"bad request body\n")
        path = target_path(target)
        if path.startswith("/echo"):
            return self.echo(target, body_length)
        if self.command in ("GET", "HEAD"):
            for pattern, name in self.GET_ROUTES:
                match = pattern.fullmatch(path)
                if match:
                    return getattr(self, "get_" + name)(*match.groups())
        self.not_found()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = dispatch

    # ------------------------------------------------------------ request body

    def read_body(self):
        """Reads and discards the request body; returns its length."""
        return sum(len(piece) for piece in self.body_pieces())

    def read_body_bytes(self):
        """The request body, de-chunked."""
        return b"".join(self.body_pieces())

    def body_pieces(self):
        """The request body in pieces, by Content-Length or chunked."""
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError("negative Content-Length")
            yield from self.pieces_of(length)
            return
        while True:
            size_field = self.rfile.readline(65537).split(b";", 1)[0].strip()
            if not re.fullmatch(rb"[0-9a-fA-F]+", size_field):
                raise ValueError("bad chunk size")
            size = int(size_field, 16)
            if size == 0:
                break
            yield from self.pieces_of(size)
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise ValueError("bad chunk end")
        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass  # trailer fields

    def pieces_of(self, length):
        left = length
        while left:
            data = self.rfile.read(min(left, len(PATTERN_CHUNK)))
            if not data:
                raise ConnectionError("request body truncated")
            left -= len(data)
            yield data

    # ---------------------------------------------------------------- replies

    def respond(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def respond_json(self, value):
        self.respond(200, "application/json", (json.dumps(value) + "\n").encode())

    def get_ping(self):
        self.respond_json({})

    def git(self, target):
        """Runs `git http-backend` as CGI for the request, with its body."""
        try:
            body = self.read_body_bytes()
        except ValueError:
            self.close_connection = True
            return self.respond(400, "text/plain", b"bad request body\n")
        url = urllib.parse.urlsplit(target)
        env = {"PATH": "/usr/bin:/bin", "GIT_PROJECT_ROOT": self.server.origin.git_root,
               "GIT_HTTP_EXPORT_ALL": "1", "REQUEST_METHOD": self.command,
               "PATH_INFO": url.path[len("/git"):], "QUERY_STRING": url.query,
               "CONTENT_TYPE": self.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": self.client_address[0],
               "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
               "GIT_PROTOCOL": self.headers.get("Git-Protocol", "")}
        out = subprocess.run(["git", "http-backend"], input=body, env=env,
                             capture_output=True, check=False).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.split(b"\r\n"):
            name, _, value = line.decode().partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def not_found(self):
        self.respond(404, "text/plain", b"not found\n")

    def echo(self, target, body_length):
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self.respond_json({"method": self.command, "path": target,
                           "headers": headers, "body_length": body_length})

    def get_hello(self):
        host = self.headers.get("Host", "")
        self.respond(200, "text/plain", f"hello from origin {host}\n".encode())

    def get_stats(self):
        self.respond_json(self.server.origin.stats())

    def get_bytes(self, count):
        left = int(count)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(left))
        self.end_headers()
        if self.command == "HEAD":
            return
        chunk = memoryview(PATTERN_CHUNK)
        while left:
            step = min(left, len(chunk))
            self.connection.sendall(chunk[:step])
            left -= step

    def get_hold(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        self.wfile.write(b"holding\n")
        self.wfile.flush()
        origin = self.server.origin
        origin.hold_started()
        peer_closed = False
        try:
            peer_closed = wait_for_peer_close(self.connection)
        finally:
            origin.hold_ended(peer_closed)

    def get_simple_index(self):
        self.respond(200, "text/html", html_page([(f"/simple/{PROJECT}/", PROJECT)]))

    def get_simple_project(self, name):
        if normalize_project(name) != PROJECT:
            return self.not_found()
        href = f"/packages/{WHEEL_NAME}#sha256={self.server.origin.wheel_sha256}"
        self.respond(200, "text/html", html_page([(href, WHEEL_NAME)]))

    def get_package(self, filename):
        if filename != WHEEL_NAME:
            return self.not_found()
        self.respond(200, "application/octet-stream", self.server.origin.wheel)

# --------------------------------------------------------------------- server


class OriginServer(http.server.ThreadingHTTPServer):
    """One listener; speaks TLS if given an ssl_context."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, bind, origin, ssl_context=None):
        self.address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        self.origin = origin
        self.ssl_context = ssl_context
        super().__init__((bind, 0), OriginHandler)

    def server_bind(self):
        # HTTPServer.server_bind would do a reverse DNS lookup (socket.getfqdn).
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        # Runs in the connection's thread, so a slow handshake blocks no one else.
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        request.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except OSError:
            return  # e.g. a client that does not trust our CA
        with tls:
            tls.settimeout(None)
            super().finish_request(tls, client_address)

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, ssl.SSLError)):
            return  # the client went away
        sys.stderr.write(f"origin_server: error serving {client_address}:\n")
        traceback.print_exc()

# ----------------------------------------------------------------------- main


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", required=True, help="directory for certificates and ready.json")
    parser.add_argument("--bind", action="append", help="address to listen on (repeatable)")
    parser.add_argument("--name", action="append", default=[],
                        help="DNS name the certificate covers (repeatable)")
    args = parser.parse_args()
    for name in args.name:
        if not re.fullmatch(r"[A-Za-z0-9*][A-Za-z0-9.*-]*", name):
            parser.error(f"bad --name {name!r}")
    args.bind = args.bind or ["127.0.0.1"]
    return args


def write_ready(state, ca_cert, servers):
    info = {"ca": ca_cert, "servers": servers, "pid": os.getpid()}
    path = os.path.join(state, "ready.json")
    with open(path + ".tmp", "w") as f:
        json.dump(info, f)
        f.write("\n")
    os.rename(path + ".tmp", path)


def watch_stdin(stop):
    # os.read, not sys.stdin: a daemon thread blocked inside sys.stdin's lock
    # can make interpreter shutdown abort.
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    stop.set()


def main():
    args = parse_args()
    state = os.path.abspath(args.state)
    os.makedirs(state, exist_ok=True)
    if os.path.exists(os.path.join(state, "ready.json")):
        os.remove(os.path.join(state, "ready.json"))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    ca_cert, cert, key = make_certificates(state, args.name)
    context = make_ssl_context(cert, key)
    origin = Origin(build_wheel(), make_git_repository(state))
    listeners, ready = [], []
    for bind in args.bind:
        plain, tls = OriginServer(bind, origin), OriginServer(bind, origin, context)
        listeners += [plain, tls]
        ready.append({"bind": bind, "http_port": plain.server_port,
                      "https_port": tls.server_port})
    for server in listeners:
        threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
    threading.Thread(target=watch_stdin, args=(stop,), daemon=True).start()
    write_ready(state, ca_cert, ready)

    stop.wait()
    for server in listeners:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
