"""Starts a real Cairn server (4 drive folders, erasure coded) for the Python client suites, and the fixtures
they share with test/analytics (whose conftest.py imports this file): `cairn`, `bucket`, `stop_process`."""
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
CAIRN = REPO / "server" / "bin" / "cairn.js"


@dataclass
class Cairn:
    endpoint: str
    host: str
    port: int
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    log: Path | None = None   # the server's log (pino JSON lines, one per request at the default level)
    verify: str | None = None  # the CA file clients trust when the server speaks HTTPS

    def client(self, **config):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            verify=self.verify,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}, **config),
        )


def _served_url(log: Path) -> str | None:
    """The address `cairn server` reports once it listens: the `url` of its JSON start-up log line."""
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # the loud development-credentials banner and other plain text
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            return entry["url"]
    return None


@contextlib.contextmanager
def run_cairn(root: Path, extra_args: tuple[str, ...] = (), verify: str | None = None,
              extra_env: dict[str, str] | None = None, command: tuple[str, ...] | None = None):
    """Runs `cairn server` on 4 drive folders under `root` until the block ends; yields a Cairn.
    `extra_env`: more settings (CAIRN_IDENTITY_OPENID_*, ...). `command`: another command than
    `server DRIVE...` (e.g. `gateway nas PATH`), after which `--address` and `extra_args` come."""
    drives = [str(root / f"d{i}") for i in range(1, 5)]
    # Debug keeps each request's lines in server.log (test_presto.py reads "request completed"); a level set
    # in the environment wins.
    env = dict({"CAIRN_LOG_LEVEL": "debug"}, **os.environ,
               CAIRN_ROOT_USER="pytestadmin",
               CAIRN_ROOT_PASSWORD="pytestadmin-secret-key",
               **(extra_env or {}))
    log = open(root / "server.log", "wb")
    # Port 0: the server binds a free port itself and logs the address it got (no port picked here and
    # released before the server binds it, which another process could take in between).
    args = [*command, "--address", "127.0.0.1:0", *extra_args] if command else \
        ["server", "--address", "127.0.0.1:0", *extra_args, *drives]
    proc = subprocess.Popen(["node", str(CAIRN), *args],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    endpoint = None
    deadline = time.time() + 60  # start-up polling, not a timing assertion: generous for a loaded machine
    while True:
        if proc.poll() is not None:
            log.close()
            raise RuntimeError("cairn exited early:\n" + (root / "server.log").read_text()[-4000:])
        endpoint = endpoint or _served_url(root / "server.log")
        try:
            if endpoint and requests.get(endpoint + "/health/live", timeout=1,
                                         verify=verify or True).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.time() > deadline:
            proc.kill()
            raise RuntimeError("cairn did not become live in 60 s")
        time.sleep(0.1)
    url = urlsplit(endpoint)
    try:
        yield Cairn(endpoint, url.hostname, url.port, env["CAIRN_ROOT_USER"], env["CAIRN_ROOT_PASSWORD"],
                    log=root / "server.log", verify=verify)
    finally:
        stop_process(proc, timeout=20)
        log.close()


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_test_ca(root: Path) -> tuple[Path, Path]:
    """A CA made here (EC P-256) and a server certificate it signs for 127.0.0.1 and localhost (RSA 2048), in
    MinIO's layout for `cairn server --certs-dir`. Returns (the certs folder, the CA's certificate file)."""
    ca_key, ca_crt = root / "ca.key", root / "ca.crt"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=Cairn pytest CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-keyout", str(ca_key), "-out", str(ca_crt))
    certs = root / "certs"
    certs.mkdir()
    (root / "leaf.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", str(certs / "private.key"), "-out", str(root / "leaf.csr"))
    _openssl("x509", "-req", "-in", str(root / "leaf.csr"), "-CA", str(ca_crt), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "1", "-extfile", str(root / "leaf.ext"), "-out", str(certs / "public.crt"))
    return certs, ca_crt


@pytest.fixture(scope="session")
def cairn(tmp_path_factory):
    with run_cairn(tmp_path_factory.mktemp("cairn")) as server:
        yield server


def stop_process(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM (a graceful stop), then SIGKILL when it has not exited within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(params=["defaults", "when_required"])
def s3(request, cairn, monkeypatch):
    """A boto3 client at its defaults (CRC trailers on uploads) and with checksums only when required."""
    if request.param == "when_required":
        return cairn.client(request_checksum_calculation="when_required",
                            response_checksum_validation="when_required")
    return cairn.client()


@pytest.fixture
def bucket(cairn):
    """A fresh bucket, emptied (versions, delete markers, uploads) and removed after the test."""
    yield from fresh_bucket(cairn)


def fresh_bucket(cairn):
    """The `bucket` fixture's body, for suites with a server of their own."""
    name = "py-" + uuid.uuid4().hex[:20]
    client = cairn.client()
    client.create_bucket(Bucket=name)
    yield name
    # Empty and remove, tolerating what the test already removed.
    try:
        paginator = client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=name):
            for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                client.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
        for up in client.list_multipart_uploads(Bucket=name).get("Uploads", []):
            client.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
        client.delete_bucket(Bucket=name)
    except client.exceptions.NoSuchBucket:
        pass


def venv_bin(name: str) -> str:
    """A console script installed next to this interpreter (the suite's venv), else from PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed; run scripts/test-python.sh, which installs it")
    return found


def random_file(path: Path, size: int, seed: int = 0) -> Path:
    """Writes `size` pseudo-random bytes (1 MiB at a time, so multi-GB files cost little memory)."""
    import random
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 1 << 20)
            f.write(rnd.randbytes(n))
            left -= n
    return path
