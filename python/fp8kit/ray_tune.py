"""`fp8kit tune --ray ADDRESS`: the tuner's GPU workers placed on a Ray cluster.

The tuner (C++) stays the coordinator and the only writer of files and journals. For each GPU slot
of the cluster it starts, as if it were a local worker process,

    python -m fp8kit.ray_tune bridge --address ADDRESS [--resource NAME] -- WORKER_ARGV...

The bridge places one actor on a node with a free slot; the actor runs WORKER_ARGV there (that
node's `fp8kit tune-worker`) and the bridge relays the worker protocol's JSON lines both ways, over
a TCP connection to the actor (it opens a port and admits the bridge by a one-time token). The
actor is owned by the bridge: when the tuner replaces a worker (it crashed, hung or its node died)
it kills the bridge, and Ray ends the actor and its worker with it. A worker that dies by a signal
takes its bridge down by the same signal, so the tuner's supervision reads it as it would locally.

    python -m fp8kit.ray_tune slots --address ADDRESS [--resource NAME]

prints how many slots the cluster has (its GPUs, or units of the custom resource NAME).

Ray is imported here only: `import fp8kit` never needs it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading

# A worker lost with its node (not a fault of the request in flight): the tuner retries the request.
EXIT_WORKER_LOST = 75
RELAY_CHUNK = 1 << 16
TOKEN_TIMEOUT_S = 30
CONNECT_TIMEOUT_S = 30


def _ray():
    try:
        import ray
    except ImportError as e:  # pragma: no cover - the message is the point
        raise SystemExit(f"fp8kit tune --ray needs Ray in this Python ({sys.executable}): {e}") from None
    return ray


def _connect(address: str):
    ray = _ray()
    ray.init(address=address, log_to_driver=False, logging_level="ERROR", configure_logging=False)
    return ray


def _slot_options(resource: str | None) -> dict:
    return {"resources": {resource: 1}} if resource else {"num_gpus": 1}


def count_slots(address: str, resource: str | None) -> int:
    ray = _connect(address)
    try:
        return int(ray.cluster_resources().get(resource or "GPU", 0))
    finally:
        ray.shutdown()


def _die_with_parent() -> None:
    """In the worker, before exec: SIGKILL when the actor's process ends (Linux prctl)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class WorkerHost:
    """The actor: one worker process on its node (ended with the actor). Its stdin and stdout are
    relayed over one TCP connection from the bridge, not through Ray calls: a Ray call per protocol
    line cost 2.4-3 ms a measurement on an idle host, and Ray's worker time on two H200s was 14% above
    the plain run's (docs/PERF.md, session 16). Ray only places the worker and ends it with its owner."""

    def __init__(self, argv: list[str], token: bytes):
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, preexec_fn=_die_with_parent
        )
        self.token = token
        self.listener = socket.create_server(("", 0))  # every interface, a free port
        threading.Thread(target=self._serve, daemon=True).start()

    def address(self) -> tuple[str, int]:
        import ray

        return ray.util.get_node_ip_address(), self.listener.getsockname()[1]

    def _accept(self) -> socket.socket:
        """The first connection that presents the token (anyone on the network can reach the port)."""
        while True:
            conn, _ = self.listener.accept()
            conn.settimeout(TOKEN_TIMEOUT_S)
            try:
                if _read_exact(conn, len(self.token)) == self.token:
                    conn.settimeout(None)
                    self.listener.close()
                    return conn
            except OSError:
                pass
            conn.close()

    def _serve(self) -> None:
        conn = self._accept()

        def requests() -> None:  # connection -> worker stdin; its end closes the worker's stdin
            _relay(conn.recv, self.proc.stdin.fileno())
            self.proc.stdin.close()

        threading.Thread(target=requests, daemon=True).start()
        _relay(lambda n: os.read(self.proc.stdout.fileno(), n), conn.fileno())  # worker stdout -> connection
        try:
            conn.shutdown(socket.SHUT_WR)
        except OSError:  # the bridge is gone already
            pass

    def wait(self) -> int:
        return self.proc.wait()


def _read_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _relay(read, fd: int) -> None:
    """Copies read(size) into file descriptor fd until end of input or a broken end."""
    try:
        while data := read(RELAY_CHUNK):
            while data:
                data = data[os.write(fd, data) :]
    except OSError:
        pass


def _exit_like(code: int) -> None:
    """Leaves as the worker left: its exit code, or the signal that killed it."""
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code)


def _take_protocol_stdout() -> int:
    """The protocol's channel: a copy of the real stdout, kept for the worker's lines alone. File
    descriptor 1 then points at stderr, so nothing Ray prints (its warnings are colored lines)
    corrupts a reply."""
    sys.stdout.flush()
    channel = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return channel


def bridge(address: str, resource: str | None, argv: list[str]) -> None:
    protocol = _take_protocol_stdout()
    ray = _connect(address)
    token = secrets.token_hex(16).encode()
    host = ray.remote(max_concurrency=2)(WorkerHost).options(**_slot_options(resource)).remote(argv, token)
    try:
        actor_address = ray.get(host.address.remote())
        conn = socket.create_connection(actor_address, timeout=CONNECT_TIMEOUT_S)
        conn.settimeout(None)
        conn.sendall(token)
    except (ray.exceptions.RayError, OSError) as e:
        print(f"fp8kit.ray_tune bridge: cannot reach the worker's actor: {e}", file=sys.stderr, flush=True)
        os._exit(EXIT_WORKER_LOST)
    exit_code = host.wait.remote()

    def watch() -> None:  # a lost actor or node may leave the connection silent: Ray tells
        try:
            ray.get(exit_code)
        except ray.exceptions.RayError:
            os._exit(EXIT_WORKER_LOST)

    def requests() -> None:  # the tuner's requests, until it closes our stdin
        _relay(lambda n: os.read(sys.stdin.fileno(), n), conn.fileno())
        try:
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    threading.Thread(target=watch, daemon=True).start()
    threading.Thread(target=requests, daemon=True).start()
    _relay(conn.recv, protocol)  # the worker's replies, until it ends
    try:
        code = ray.get(exit_code)
    except ray.exceptions.RayError:
        code = EXIT_WORKER_LOST
    _exit_like(code)


def main(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    own, worker = (args[: args.index("--")], args[args.index("--") + 1 :]) if "--" in args else (args, [])
    parser = argparse.ArgumentParser(prog="python -m fp8kit.ray_tune", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["slots", "bridge"], help="bridge: followed by -- WORKER_ARGV...")
    parser.add_argument("--address", required=True, help="the Ray cluster (ray.init's address)")
    parser.add_argument("--resource", help="a custom resource per slot instead of one GPU")
    a = parser.parse_args(own)
    if a.command == "slots":
        print(count_slots(a.address, a.resource), flush=True)
        return
    if not worker:
        parser.error("bridge: the worker's command line follows --")
    bridge(a.address, a.resource, worker)


if __name__ == "__main__":
    main()
