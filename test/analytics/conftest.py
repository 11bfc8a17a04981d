"""Fixtures for the analytics client suites: the Cairn server and bucket fixture of test/python/conftest.py
(imported, not copied), plus option sets in the shapes pyarrow, polars, s3fs and DuckDB each want."""
import importlib.util
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
