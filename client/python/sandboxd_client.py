"""A small Python client for sandboxd.

Runs a command through the streaming ExecStream call and hands its output over as it
arrives. Needs the generated stubs (sandbox/v1/sandbox_pb2*.py, made by
client/python/generate.sh with Debian's protoc and grpc_python_plugin) on the path.

    import sandboxd_client
    with sandboxd_client.connect("unix:/run/sandboxd/sandboxd.sock") as channel:
        result = sandboxd_client.run(channel, ["make", "test"], cwd="/srv/project",
                                     writable=True, on_output=print_chunk)
        print(result.exit_code)
"""

import grpc

from sandbox.v1 import sandbox_pb2
from sandbox.v1 import sandbox_pb2_grpc

STDOUT = sandbox_pb2.STDOUT
STDERR = sandbox_pb2.STDERR


def connect(address, token=None):
    """A channel to sandboxd at `address` ("unix:/path" or "host:port", no TLS).

    With `token`, every call carries it as "authorization: Bearer TOKEN".
    """
    channel = grpc.insecure_channel(address)
    if token:
        channel = grpc.intercept_channel(channel, _TokenInterceptor(token))
    return channel


class _TokenInterceptor(grpc.StreamStreamClientInterceptor, grpc.UnaryUnaryClientInterceptor):
    """Adds the bearer token to every call."""

    def __init__(self, token):
        self._metadata = [("authorization", "Bearer " + token)]

    def _with_token(self, details):
        return _Details(details.method, details.timeout,
                        list(details.metadata or []) + self._metadata, details.credentials,
                        details.wait_for_ready, details.compression)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._with_token(details), requests)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)


class _Details(grpc.ClientCallDetails):
    def __init__(self, method, timeout, metadata, credentials, wait_for_ready, compression):
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


def run(channel, argv, cwd=None, stdin=b"", writable=False, network=False, timeout_s=None,
        on_output=None, allow_domains=(), deny_domains=()):
    """Runs `argv` in the sandbox and returns its ExecResponse.

    `on_output(stream, data)` is called with STDOUT or STDERR and the bytes, as the
    command writes them. `stdin` is fed, then closed. `writable` makes the cwd writable
    (WORKSPACE_WRITE); `network` True enables the host's network, "proxy" routes it
    through the server's proxy to `allow_domains` (less `deny_domains`), and what the
    proxy refused is in the result's network_denials. Raises grpc.RpcError when the
    command could not run (the error's details() say why).
    """
    request = sandbox_pb2.ExecRequest(argv=argv, stdin=stdin)
    if cwd:
        request.cwd = cwd
    if writable:
        request.policy.mode = sandbox_pb2.WORKSPACE_WRITE
    if network == "proxy":
        request.policy.network = sandbox_pb2.NETWORK_PROXY_ROUTED
        request.policy.allow_domains.extend(allow_domains)
        request.policy.deny_domains.extend(deny_domains)
    elif network:
        request.policy.network = sandbox_pb2.NETWORK_ENABLED
    if timeout_s:
        request.timeout.seconds = int(timeout_s)

    def messages():
        # Only the start: returning half-closes the stream, which closes stdin.
        yield sandbox_pb2.ExecStreamRequest(start=request)

    stub = sandbox_pb2_grpc.SandboxServiceStub(channel)
    result = None
    for message in stub.ExecStream(messages()):
        if message.HasField("result"):
            result = message.result
        elif on_output is not None:
            on_output(message.output.stream, message.output.data)
    return result
