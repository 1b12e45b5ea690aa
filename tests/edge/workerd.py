"""workerd, Cloudflare's Workers runtime, serving a generated Worker on a loopback port.

The ``workerd`` npm package pinned in tests/edge/workerd is installed like the bundlers'
(:mod:`tests.npm`: a skip without node or the registry, a failure under CI). Each
:class:`WorkerdServer` is one ``workerd serve`` process with its own ``config.capnp``: the Worker
module, its ``ORIGIN`` binding, outbound network limited to loopback (the S3 front and moto) and
an HTTP socket that reads ``request.cf`` from the ``cf-blob`` request header, so a test can give
the Worker what Cloudflare's network would.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tests import npm
from tests.conftest import free_port

SPEC = Path(__file__).resolve().parent / "workerd"
# The request header workerd parses into request.cf (JSON), as Cloudflare's network sets it.
CF_BLOB_HEADER = "cf-blob"
START_TIMEOUT = 30.0


def workerd_command() -> Path:
    """The ``workerd`` executable, installed on first use."""
    return npm.node_modules(SPEC, "workerd") / ".bin" / "workerd"


def capnp_text(port: int, origin: str, compatibility_date: str) -> str:
    return f"""\
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "worker", worker = .worker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [
    ( name = "http",
      address = "127.0.0.1:{port}",
      http = (cfBlobHeader = {json.dumps(CF_BLOB_HEADER)}),
      service = "worker" ),
  ],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = {json.dumps(compatibility_date)},
  bindings = [(name = "ORIGIN", text = {json.dumps(origin)})],
  globalOutbound = "loopback",
);
"""


@dataclass
class WorkerdServer:
    port: int
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return (self.directory / "workerd.log").read_text(errors="replace")


def wait_until_listening(server: WorkerdServer, timeout: float = START_TIMEOUT) -> None:
    """Poll the port until workerd accepts, failing at once if it exits or at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"workerd exited with {server.process.returncode}:\n{server.log()}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"workerd did not listen on {server.port} within {timeout} s:\n{server.log()}"
                ) from None
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=0.05)  # returns early if workerd exits


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_worker(
    directory: Path,
    worker_js: str,
    origin: str,
    compatibility_date: str,
    port: int | None = None,
) -> Iterator[WorkerdServer]:
    """``workerd serve`` running ``worker_js`` with ``ORIGIN = origin``, until the block ends;
    on ``port`` when given (a URL that had to be known first), else on a free one."""
    command = workerd_command()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "worker.js").write_text(worker_js)
    port = free_port() if port is None else port
    (directory / "config.capnp").write_text(capnp_text(port, origin, compatibility_date))
    log: IO[bytes] = (directory / "workerd.log").open("wb")
    try:
        process = subprocess.Popen(
            [str(command), "serve", "config.capnp", "--verbose"],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = WorkerdServer(port=port, directory=directory, process=process)
        try:
            wait_until_listening(server)
            yield server
        finally:
            stop(process)
    finally:
        log.close()
