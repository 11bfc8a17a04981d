"""Cairn over HTTPS (`cairn server --certs-dir`) with boto3, the AWS CLI and requests trusting a CA the test
makes with openssl; a client that does not trust it, and one limited to TLS 1.1, are refused. Each test runs with
both TLS engines of the S3 address (CAIRN_TLS_ENGINE: node:tls and the addon's rustls)."""
import ssl
import socket
import subprocess

import botocore.exceptions
import pytest

from conftest import make_test_ca, run_cairn, venv_bin


@pytest.fixture(scope="module", params=["node", "rustls"])
def tls_cairn(tmp_path_factory, request):
    root = tmp_path_factory.mktemp("cairn-tls")
    certs, ca_crt = make_test_ca(root)
    with run_cairn(root, ("--certs-dir", str(certs)), verify=str(ca_crt),
                   extra_env={"CAIRN_TLS_ENGINE": request.param}) as server:
        yield server


def test_boto3_over_https(tls_cairn):
    assert tls_cairn.endpoint.startswith("https://")
    s3 = tls_cairn.client()
    s3.create_bucket(Bucket="tls-boto3")
    s3.put_object(Bucket="tls-boto3", Key="k", Body=b"secret in flight")
    assert s3.get_object(Bucket="tls-boto3", Key="k")["Body"].read() == b"secret in flight"
    # Multipart over the same keep-alive TLS connections.
    up = s3.create_multipart_upload(Bucket="tls-boto3", Key="mp")["UploadId"]
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket="tls-boto3", Key="mp", UploadId=up, PartNumber=n,
                                                      Body=bytes([n]) * (5 << 20))["ETag"]} for n in (1, 2)]
    s3.complete_multipart_upload(Bucket="tls-boto3", Key="mp", UploadId=up, MultipartUpload={"Parts": parts})
    assert s3.head_object(Bucket="tls-boto3", Key="mp")["ContentLength"] == 10 << 20


def test_untrusted_ca_is_refused(tls_cairn):
    tls_cairn.verify = None  # the system's roots only
    try:
        with pytest.raises(botocore.exceptions.SSLError):
            tls_cairn.client().list_buckets()
    finally:
        tls_cairn.verify = str(tls_cairn.log.parent / "ca.crt")


def test_aws_cli_over_https(tls_cairn, tmp_path):
    env = {"AWS_ACCESS_KEY_ID": tls_cairn.access_key, "AWS_SECRET_ACCESS_KEY": tls_cairn.secret_key,
           "AWS_DEFAULT_REGION": tls_cairn.region, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    aws = [venv_bin("aws"), "--endpoint-url", tls_cairn.endpoint, "--ca-bundle", tls_cairn.verify]
    subprocess.run([*aws, "s3", "mb", "s3://tls-cli"], check=True, env=env, capture_output=True)
    (tmp_path / "f.txt").write_text("via the cli")
    subprocess.run([*aws, "s3", "cp", str(tmp_path / "f.txt"), "s3://tls-cli/f.txt"], check=True, env=env,
                   capture_output=True)
    out = subprocess.run([*aws, "s3", "cp", "s3://tls-cli/f.txt", "-"], check=True, env=env, capture_output=True)
    assert out.stdout == b"via the cli"


def test_tls_1_1_client_is_refused(tls_cairn):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(tls_cairn.verify)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection((tls_cairn.host, tls_cairn.port)) as raw:
        with pytest.raises(ssl.SSLError, match="(?i)protocol.version"):
            ctx.wrap_socket(raw, server_hostname=tls_cairn.host)
    # The same client allowed TLS 1.2 gets through: the refusal is about the version.
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection((tls_cairn.host, tls_cairn.port)) as raw:
        with ctx.wrap_socket(raw, server_hostname=tls_cairn.host) as tls:
            assert tls.version() == "TLSv1.2"
