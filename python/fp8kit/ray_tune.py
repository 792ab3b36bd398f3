"""`fp8kit tune --ray ADDRESS`: the tuner's GPU workers placed on a Ray cluster.

The tuner (C++) stays the coordinator and the only writer of files and journals. For each GPU slot
of the cluster it starts, as if it were a local worker process,

    python -m fp8kit.ray_tune bridge --address ADDRESS [--resource NAME] -- WORKER_ARGV...

The bridge places one actor on a node with a free slot; the actor runs WORKER_ARGV there (that
node's `fp8kit tune-worker`) and the bridge relays the worker protocol's JSON lines both ways. The
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
import signal
import subprocess
import sys
import threading

# A worker lost with its node (not a fault of the request in flight): the tuner retries the request.
EXIT_WORKER_LOST = 75


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
    """The actor: one worker process on its node (ended with the actor), its stdout read by line."""

    def __init__(self, argv: list[str]):
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, preexec_fn=_die_with_parent
        )

    def read_line(self) -> str:
        return self.proc.stdout.readline()  # "" at end of file

    def write_line(self, line: str) -> bool:
        try:
            self.proc.stdin.write(line)
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, ValueError):
            return False

    def close_stdin(self) -> None:
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass

    def wait(self) -> int:
        return self.proc.wait()


def _exit_like(code: int) -> None:
    """Leaves as the worker left: its exit code, or the signal that killed it."""
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code)


def _take_protocol_stdout():
    """The protocol's channel: the real stdout, kept for the worker's lines alone. File descriptor 1
    then points at stderr, so nothing Ray prints (its warnings are colored lines) corrupts a reply."""
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return channel


def bridge(address: str, resource: str | None, argv: list[str]) -> None:
    protocol = _take_protocol_stdout()
    ray = _connect(address)
    actor_class = ray.remote(max_concurrency=2)(WorkerHost)
    host = actor_class.options(**_slot_options(resource)).remote(argv)

    def pump_requests() -> None:  # the tuner's requests, until it closes our stdin
        try:
            for line in sys.stdin:
                if not ray.get(host.write_line.remote(line)):
                    break
            ray.get(host.close_stdin.remote())
        except Exception:  # the actor is gone: the reply side notices and exits
            pass

    threading.Thread(target=pump_requests, daemon=True).start()
    try:
        while True:
            line = ray.get(host.read_line.remote())
            if not line:
                break
            protocol.write(line)
            protocol.flush()
        code = ray.get(host.wait.remote())
    except ray.exceptions.RayError:
        code = EXIT_WORKER_LOST
    protocol.flush()
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
