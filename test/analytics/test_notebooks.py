"""Executes every notebook under notebooks/ top to bottom against the test server, so none can rot. The
notebooks read CAIRN_ENDPOINT / CAIRN_ACCESS_KEY / CAIRN_SECRET_KEY, and each makes and removes its bucket."""
import uuid
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_notebooks_exist():
    assert {p.name for p in NOTEBOOKS} >= {"parquet-pyarrow-polars.ipynb", "pandas-duckdb.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, cairn, s3, tmp_path, monkeypatch):
    bucket = "nb-" + uuid.uuid4().hex[:16]
    # The kernel inherits this process's environment.
    monkeypatch.setenv("CAIRN_ENDPOINT", cairn.endpoint)
    monkeypatch.setenv("CAIRN_ACCESS_KEY", cairn.access_key)
    monkeypatch.setenv("CAIRN_SECRET_KEY", cairn.secret_key)
    monkeypatch.setenv("CAIRN_NOTEBOOK_BUCKET", bucket)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # raises on any failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert f"removed {bucket}" in text
    # It cleaned up after itself: the bucket is gone.
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
