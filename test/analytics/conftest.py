"""Fixtures for the analytics client suites: the Cairn server and bucket fixture of test/python/conftest.py
(imported, not copied), a second Cairn over HTTPS with an SSE-S3 key, plus option sets in the shapes pyarrow,
polars, s3fs and DuckDB each want."""
import base64
import importlib.util
import os
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "cairn_python_conftest", Path(__file__).resolve().parents[1] / "python" / "conftest.py")
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)

# Re-exported fixtures: pytest finds fixtures by attribute on the conftest module.
cairn = _shared.cairn
bucket = _shared.bucket
Cairn = _shared.Cairn
REPO = _shared.REPO
stop_process = _shared.stop_process  # for presto.py
run_cairn = _shared.run_cairn  # for test_nas_gateway.py
fresh_bucket = _shared.fresh_bucket


@pytest.fixture(scope="module")
def tls_cairn(tmp_path_factory):
    """Cairn over HTTPS with a certificate signed by a CA the test makes (`verify`: the CA file) and a KMS key
    for SSE-S3 (the static development key), for the clients' HTTPS and encrypted-bucket tests."""
    root = tmp_path_factory.mktemp("cairn-tls")
    certs, ca_crt = _shared.make_test_ca(root)
    kms_key = "analytics:" + base64.b64encode(os.urandom(32)).decode()
    with run_cairn(root, ("--certs-dir", str(certs)), verify=str(ca_crt),
                   extra_env={"CAIRN_KMS_SECRET_KEY": kms_key}) as server:
        yield server


@pytest.fixture
def sse_bucket(tls_cairn):
    """A fresh bucket on the HTTPS Cairn whose default encryption is SSE-S3 (AES256)."""
    for name in fresh_bucket(tls_cairn):
        tls_cairn.client().put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        yield name


@pytest.fixture
def s3(cairn):
    """A plain boto3 client, to check what the client under test stored, byte for byte."""
    return cairn.client()


@pytest.fixture
def arrow_fs(cairn):
    from pyarrow import fs
    return fs.S3FileSystem(access_key=cairn.access_key, secret_key=cairn.secret_key,
                           endpoint_override=f"{cairn.host}:{cairn.port}", scheme="http",
                           region=cairn.region)


@pytest.fixture
def s3fs_fs(cairn):
    import s3fs
    # A fresh instance each test (skip_instance_cache): listings cached by one test must not leak into another.
    return s3fs.S3FileSystem(key=cairn.access_key, secret=cairn.secret_key, endpoint_url=cairn.endpoint,
                             client_kwargs={"region_name": cairn.region},
                             config_kwargs={"s3": {"addressing_style": "path"}},
                             skip_instance_cache=True)


@pytest.fixture
def polars_options(cairn):
    return {"aws_endpoint_url": cairn.endpoint, "aws_access_key_id": cairn.access_key,
            "aws_secret_access_key": cairn.secret_key, "aws_region": cairn.region,
            "aws_allow_http": "true"}


@pytest.fixture
def duckdb_httpfs(cairn):
    """A DuckDB connection with httpfs loaded from the duckdb-extension-httpfs wheel (nothing is downloaded
    at run time) and Cairn as its S3 secret: path style, plain HTTP."""
    import duckdb
    import duckdb_extension_httpfs
    ext = (Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}"
           / "httpfs.duckdb_extension")
    assert ext.exists(), f"duckdb-extension-httpfs does not match duckdb {duckdb.__version__}"
    con = duckdb.connect()
    con.execute(f"LOAD '{ext}'")
    con.execute(f"""CREATE SECRET cairn (TYPE s3, KEY_ID '{cairn.access_key}', SECRET '{cairn.secret_key}',
                    ENDPOINT '{cairn.host}:{cairn.port}', URL_STYLE 'path', USE_SSL false,
                    REGION '{cairn.region}')""")
    yield con
    con.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "torch: the heavy group (PyTorch); run by scripts/test-analytics.sh --torch")
    config.addinivalue_line("markers",
                            "presto: the heavy group (PrestoDB, Hive on Cairn); run by scripts/test-analytics.sh --presto")
    config.addinivalue_line("markers", "spark: the heavy group (Spark over s3a); run by scripts/test-analytics.sh --spark")
    config.addinivalue_line("markers",
                            "tensorflow: the heavy group (TensorFlow); run by scripts/test-analytics.sh --tensorflow")
