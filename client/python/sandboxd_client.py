"""A small Python client for sandboxd.

Runs a command through the streaming ExecStream call and hands its output over as it
arrives. Needs the generated stubs (sandbox/v1/sandbox_pb2*.py, made by
client/python/generate.sh with Debian's protoc and grpc_python_plugin) on the path.

    import sandboxd_client
    with sandboxd_client.connect("unix:/run/sandboxd/sandboxd.sock") as channel:
        result = sandboxd_client.run(channel, ["make", "test"], cwd="/srv/project",
                                     writable=True, on_output=print_chunk)
        print(result.exit_code)

For agents that make many calls, Client has the calls about processes by id, sessions
and files:

    client = sandboxd_client.Client(channel)
    session = client.create_session(policy=sandboxd_client.policy(
        "workspace-write", writable_roots=["/srv/project"]), cwd="/srv/project")
    shell = client.start_process(["bash", "--norc", "-i"], terminal=(24, 80),
                                 session_id=session.session_id, env={"PS1": "$ "})
    offset = client.read_until(shell.process_id, "$ ", timeout=10).stdout_offset
    client.write_process(shell.process_id, text="make test\n")
    done = client.read_until(shell.process_id, "$ ", timeout=600, stdout_offset=offset)
    print(done.stdout.decode())
    client.write_file("/srv/project/notes.txt", b"...")
    client.close_session(session.session_id)
"""

import collections
import time

import grpc
from google.protobuf import duration_pb2

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


class _TokenInterceptor(grpc.StreamStreamClientInterceptor, grpc.UnaryUnaryClientInterceptor,
                        grpc.UnaryStreamClientInterceptor, grpc.StreamUnaryClientInterceptor):
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

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation, details, requests):
        return continuation(self._with_token(details), requests)


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


# Bytes a file goes up in, a message each: far below the server's largest request.
CHUNK_BYTES = 1 << 20

# How long a call that does not wait itself may take, and how much longer than its wait
# a call that waits may.
_CALL_TIMEOUT_S = 60
# The longest one ReadProcess may wait (the server's bound).
_MAX_POLL_S = 60

_MODES = {
    "read-only": sandbox_pb2.READ_ONLY,
    "workspace-write": sandbox_pb2.WORKSPACE_WRITE,
    "danger-full-access": sandbox_pb2.DANGER_FULL_ACCESS,
}

_SIGNALS = {
    "INT": sandbox_pb2.SIGNAL_INTERRUPT,
    "TERM": sandbox_pb2.SIGNAL_TERMINATE,
    "KILL": sandbox_pb2.SIGNAL_KILL,
    "HUP": sandbox_pb2.SIGNAL_HANGUP,
    "QUIT": sandbox_pb2.SIGNAL_QUIT,
}


def policy(mode=None, writable_roots=(), network=False, allow_domains=(), deny_domains=(),
           readable_roots=(), deny_read=(), exclude_cwd=False):
    """A SandboxPolicy: `mode` "read-only", "workspace-write", "danger-full-access" (or
    the enum; None: the server's default), and the rest as in sandbox.proto. `network`
    True is the host's network, "proxy" the server's proxy to `allow_domains`.
    """
    result = sandbox_pb2.SandboxPolicy(writable_roots=list(writable_roots),
                                       readable_roots=list(readable_roots),
                                       deny_read=list(deny_read), exclude_cwd=exclude_cwd)
    if mode is not None:
        result.mode = _MODES[mode] if isinstance(mode, str) else mode
    if network == "proxy":
        result.network = sandbox_pb2.NETWORK_PROXY_ROUTED
        result.allow_domains.extend(allow_domains)
        result.deny_domains.extend(deny_domains)
    elif network:
        result.network = sandbox_pb2.NETWORK_ENABLED
    return result


def _duration(seconds):
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(int(round(seconds * 1e9)))
    return duration


def _exec_request(argv=(), cwd=None, env=None, stdin=b"", policy=None, timeout_s=None,
                  session_id=None):
    request = sandbox_pb2.ExecRequest(argv=list(argv), stdin=stdin, env=dict(env or {}))
    if cwd:
        request.cwd = cwd
    if policy is not None:
        request.policy.CopyFrom(policy)
    if timeout_s:
        request.timeout.CopyFrom(_duration(timeout_s))
    if session_id:
        request.session_id = session_id
    return request


def _scope(session_id=None, policy=None):
    scope = sandbox_pb2.FileScope(session_id=session_id or "")
    if policy is not None:
        scope.policy.CopyFrom(policy)
    return scope


# What read_until found: whether `pattern` came (False when the process exited or the
# timeout passed first), the stdout read from the offset it started at, where to read
# each stream from next, and the last ProcessOutput (its `running` and `result`).
ReadUntil = collections.namedtuple(
    "ReadUntil", ["found", "stdout", "stdout_offset", "stderr_offset", "output"])


class FileList(list):
    """FileInfo entries; `truncated` when the server had more than it lists at once
    (10000)."""

    def __init__(self, entries, truncated=False):
        super().__init__(entries)
        self.truncated = truncated


class Client:
    """The calls of sandboxd for agents: processes by id, sessions and files.

    Each method makes one call (read_until and the file transfers, a few) and raises
    grpc.RpcError when it fails; the error's details() say why (NOT_FOUND: no such
    process or session of yours, FAILED_PRECONDITION: ...). Durations are in seconds.
    A `policy` is a SandboxPolicy (see policy()); a `session_id` runs the call in that
    session, with its policy unless `policy` is given.
    """

    def __init__(self, channel):
        self._channel = channel
        self._stub = sandbox_pb2_grpc.SandboxServiceStub(channel)

    def run(self, argv, **kwargs):
        """Runs `argv` to completion through ExecStream; see run()."""
        return run(self._channel, argv, **kwargs)

    # Processes by id.

    def start_process(self, argv, terminal=None, session_id=None, wait=None, cwd=None,
                      env=None, stdin=b"", policy=None, timeout_s=None, idle_timeout=None,
                      term=None):
        """Starts `argv` and returns its ProcessOutput (process_id, and with `wait` its
        output so far, and its result once it has exited within `wait`).

        `terminal`: None (pipes), True (a terminal of 24 x 80) or (rows, cols); `term`
        is then its TERM (default xterm-256color). `stdin` is written first; the stdin
        stays open for write_process. `idle_timeout`: how long it may go without a call
        about it (default and ceiling: the server's).
        """
        request = sandbox_pb2.StartProcessRequest(
            exec=_exec_request(argv, cwd, env, stdin, policy, timeout_s, session_id))
        if terminal is not None and terminal is not False:
            request.terminal.SetInParent()
            if terminal is not True:
                request.terminal.rows, request.terminal.cols = terminal
            if term:
                request.terminal.term = term
        if wait:
            request.wait.CopyFrom(_duration(wait))
        if idle_timeout:
            request.idle_timeout.CopyFrom(_duration(idle_timeout))
        return self._stub.StartProcess(request, timeout=_CALL_TIMEOUT_S + (wait or 0))

    def read_process(self, process_id, stdout_offset=0, stderr_offset=0, wait=None,
                     until_exit=False, max_bytes=0):
        """A ProcessOutput: the output past the offsets (up to `max_bytes` of each
        stream; default and ceiling 1 MiB), waiting up to `wait` (at most 60) for some,
        or with `until_exit` for the exit. Read on from its stdout.next_offset and
        stderr.next_offset; `running` and `result` say whether and how it ended.
        """
        request = sandbox_pb2.ReadProcessRequest(
            process_id=process_id, stdout_offset=stdout_offset, stderr_offset=stderr_offset,
            until_exit=until_exit, max_bytes=max_bytes)
        if wait:
            request.wait.CopyFrom(_duration(wait))
        return self._stub.ReadProcess(request, timeout=_CALL_TIMEOUT_S + (wait or 0))

    def write_process(self, process_id, data=None, text=None, close_stdin=False):
        """Writes `data` (bytes) or `text` (str) to the process's stdin, then closes it
        with `close_stdin` (on a terminal: Ctrl-D). Returns the bytes written."""
        request = sandbox_pb2.WriteProcessRequest(process_id=process_id, close_stdin=close_stdin)
        if data is not None:
            request.data = data
        if text is not None:
            request.text = text
        return self._stub.WriteProcess(request, timeout=_CALL_TIMEOUT_S).written

    def signal_process(self, process_id, signal):
        """Sends "INT", "TERM", "KILL", "HUP" or "QUIT" (or a sandbox_pb2.Signal): to the
        process group, or on a terminal to its foreground job."""
        if isinstance(signal, str):
            signal = _SIGNALS[signal.upper().removeprefix("SIG")]
        self._stub.SignalProcess(
            sandbox_pb2.SignalProcessRequest(process_id=process_id, signal=signal),
            timeout=_CALL_TIMEOUT_S)

    def resize_terminal(self, process_id, rows, cols):
        self._stub.ResizeTerminal(
            sandbox_pb2.ResizeTerminalRequest(process_id=process_id, rows=rows, cols=cols),
            timeout=_CALL_TIMEOUT_S)

    def list_processes(self, session_id=None):
        """Your processes (a list of ProcessInfo), or only `session_id`'s."""
        return list(self._stub.ListProcesses(
            sandbox_pb2.ListProcessesRequest(session_id=session_id or ""),
            timeout=_CALL_TIMEOUT_S).processes)

    def kill_process(self, process_id):
        """Kills the process's tree (if it still runs) and forgets it; returns how it
        ended (an ExecResponse)."""
        return self._stub.KillProcess(sandbox_pb2.KillProcessRequest(process_id=process_id),
                                      timeout=_CALL_TIMEOUT_S).result

    def read_until(self, process_id, pattern, timeout, stdout_offset=0, stderr_offset=0):
        """Reads the process's stdout from `stdout_offset` until what came contains
        `pattern` (bytes, str, or a compiled bytes regex), the process has exited and
        all its output is read, or `timeout` seconds have passed. Returns a ReadUntil;
        stderr is skipped, its offset followed.

        What an agent does with a shell: write a command, read until the prompt, and
        the next time read from the stdout_offset this returned.
        """
        if isinstance(pattern, str):
            pattern = pattern.encode()
        found = (pattern.search if hasattr(pattern, "search")
                 else lambda data: pattern in data)
        deadline = time.monotonic() + timeout
        stdout = b""
        output = None
        while True:
            left = max(0.0, deadline - time.monotonic())
            output = self.read_process(process_id, stdout_offset, stderr_offset,
                                       wait=min(left, _MAX_POLL_S))
            stdout += output.stdout.data
            stdout_offset = output.stdout.next_offset
            stderr_offset = output.stderr.next_offset
            if found(stdout):
                return ReadUntil(True, stdout, stdout_offset, stderr_offset, output)
            caught_up = (stdout_offset >= output.stdout.total_bytes and
                         stderr_offset >= output.stderr.total_bytes)
            if (not output.running and caught_up) or time.monotonic() >= deadline:
                return ReadUntil(False, stdout, stdout_offset, stderr_offset, output)

    # Sessions.

    def create_session(self, policy=None, cwd=None, env=None, idle_timeout=None,
                       timeout_s=None):
        """Starts a session (returns a Session; its session_id goes in later calls):
        a /tmp and HOME of its own, and the policy, cwd, environment and timeout of the
        calls in it that set none. `idle_timeout`: how long it may go unused before it
        is closed (default and ceiling: the server's)."""
        request = sandbox_pb2.CreateSessionRequest(
            defaults=_exec_request((), cwd, env, b"", policy, timeout_s))
        if idle_timeout:
            request.idle_timeout.CopyFrom(_duration(idle_timeout))
        return self._stub.CreateSession(request, timeout=_CALL_TIMEOUT_S)

    def close_session(self, session_id):
        """Ends the session: kills its processes and removes its /tmp."""
        self._stub.CloseSession(sandbox_pb2.CloseSessionRequest(session_id=session_id),
                                timeout=_CALL_TIMEOUT_S)

    def list_sessions(self):
        return list(self._stub.ListSessions(sandbox_pb2.ListSessionsRequest(),
                                            timeout=_CALL_TIMEOUT_S).sessions)

    # Files, as the sandbox sees them (absolute paths); `session_id` and `policy` make
    # the scope. Writing needs a workspace-write policy with the path in a writable
    # root, or a session's /tmp.

    def iter_file(self, path, session_id=None, policy=None, offset=0, length=0):
        """The bytes of the file at `path`, in chunks as they come (from `offset`, at
        most `length` bytes; 0: to the end)."""
        request = sandbox_pb2.ReadFileRequest(path=path, scope=_scope(session_id, policy),
                                              offset=offset, length=length)
        for chunk in self._stub.ReadFile(request):
            yield chunk.data

    def read_file(self, path, session_id=None, policy=None, offset=0, length=0):
        """The bytes of the file at `path` (see iter_file), all at once."""
        return b"".join(self.iter_file(path, session_id, policy, offset, length))

    def write_file(self, path, data, session_id=None, policy=None, mode=0, append=False,
                   exclusive=False, make_parents=False):
        """Writes `data` (bytes, str, or a file object opened for reading, read a chunk
        at a time) to `path`, in CHUNK_BYTES pieces; returns its FileInfo. Unless
        appending, readers see the old file or the new one, never part of it. `mode`:
        permission bits of a new file (default 0o644); `exclusive`: fail with
        ALREADY_EXISTS when it exists; `make_parents`: make missing directories."""
        header = sandbox_pb2.WriteFileHeader(
            path=path, scope=_scope(session_id, policy), mode=mode, append=append,
            exclusive=exclusive, make_parents=make_parents)
        if not hasattr(data, "read"):
            # The server then writes the file only if all of it came.
            header.size = len(data.encode() if isinstance(data, str) else data)

        def messages():
            yield sandbox_pb2.WriteFileRequest(header=header)
            if hasattr(data, "read"):
                while True:
                    chunk = data.read(CHUNK_BYTES)
                    if not chunk:
                        return
                    if isinstance(chunk, str):
                        chunk = chunk.encode()
                    yield sandbox_pb2.WriteFileRequest(data=chunk)
            else:
                content = data.encode() if isinstance(data, str) else data
                for at in range(0, len(content), CHUNK_BYTES):
                    yield sandbox_pb2.WriteFileRequest(data=content[at:at + CHUNK_BYTES])

        return self._stub.WriteFile(messages())

    def list_files(self, path, depth=1, session_id=None, policy=None):
        """The entries below `path` to `depth` levels (at most 16): a FileList of
        FileInfo in depth-first order, each directory before its entries."""
        response = self._stub.ListFiles(
            sandbox_pb2.ListFilesRequest(path=path, depth=depth,
                                         scope=_scope(session_id, policy)),
            timeout=_CALL_TIMEOUT_S)
        return FileList(response.entries, truncated=response.truncated)

    def stat_file(self, path, session_id=None, policy=None):
        """The FileInfo of `path` (a symlink is not followed)."""
        return self._stub.StatFile(
            sandbox_pb2.StatFileRequest(path=path, scope=_scope(session_id, policy)),
            timeout=_CALL_TIMEOUT_S)

    def make_directory(self, path, mode=0, parents=False, session_id=None, policy=None):
        return self._stub.MakeDirectory(
            sandbox_pb2.MakeDirectoryRequest(path=path, mode=mode, parents=parents,
                                             scope=_scope(session_id, policy)),
            timeout=_CALL_TIMEOUT_S)

    def move_file(self, source, destination, overwrite=False, session_id=None, policy=None):
        return self._stub.MoveFile(
            sandbox_pb2.MoveFileRequest(source=source, destination=destination,
                                        overwrite=overwrite, scope=_scope(session_id, policy)),
            timeout=_CALL_TIMEOUT_S)

    def remove_file(self, path, recursive=False, session_id=None, policy=None):
        self._stub.RemoveFile(
            sandbox_pb2.RemoveFileRequest(path=path, recursive=recursive,
                                          scope=_scope(session_id, policy)),
            timeout=_CALL_TIMEOUT_S)
