"""Executes every notebook under notebooks/ top to bottom against the test server, so none can rot. The
notebooks read CAIRN_ENDPOINT / CAIRN_ACCESS_KEY / CAIRN_SECRET_KEY, and each makes and removes its bucket.

A notebook that needs a heavy client names its test group in its metadata, `"cairn": {"group": "spark"}`
(or "torch", "tensorflow"); it then carries that pytest marker and runs in that group's venv
(`bash scripts/test-analytics.sh --spark`), the others in the default analytics venv. Each runs in a kernel
of the interpreter running this test (ipykernel's python3 spec launches sys.executable), which is checked."""
import sys
import uuid
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
GROUPS = {"spark", "torch", "tensorflow"}


def _group(path: Path) -> str | None:
    group = nbformat.read(path, as_version=4).metadata.get("cairn", {}).get("group")
    assert group is None or group in GROUPS, f"{path.name}: unknown group {group!r}"
    return group


def _params():
    for path in NOTEBOOKS:
        group = _group(path)
        yield pytest.param(path, id=path.stem, marks=[getattr(pytest.mark, group)] if group else [])


def test_notebooks_exist():
    groups = {p.name: _group(p) for p in NOTEBOOKS}
    assert groups == {"parquet-pyarrow-polars.ipynb": None, "pandas-duckdb.ipynb": None,
                      "s3-select-pandas.ipynb": None, "spark-s3a.ipynb": "spark",
                      "pytorch-streaming.ipynb": "torch", "tensorflow-streaming.ipynb": "tensorflow"}
    for path in NOTEBOOKS:  # committed without outputs
        nb = nbformat.read(path, as_version=4)
        assert not [c for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count)], path.name


@pytest.mark.parametrize("path", list(_params()))
def test_notebook_runs(path, cairn, s3, tmp_path, monkeypatch):
    bucket = "nb-" + uuid.uuid4().hex[:16]
    # The kernel inherits this process's environment.
    monkeypatch.setenv("CAIRN_ENDPOINT", cairn.endpoint)
    monkeypatch.setenv("CAIRN_ACCESS_KEY", cairn.access_key)
    monkeypatch.setenv("CAIRN_SECRET_KEY", cairn.secret_key)
    monkeypatch.setenv("CAIRN_NOTEBOOK_BUCKET", bucket)
    nb = nbformat.read(path, as_version=4)
    # A last cell, not saved: which interpreter the kernel was (a wrong venv would lack or mismatch clients).
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print('kernel prefix', sys.prefix)"))
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # raises on any failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert f"kernel prefix {sys.prefix}\n" in text
    assert f"removed {bucket}" in text
    # A notebook that plots shows its figure (inline PNG under nbclient).
    if any("matplotlib" in c.source for c in nb.cells if c.cell_type == "code"):
        assert [o for o in outputs if "image/png" in o.get("data", {})], "no figure shown"
    # It cleaned up after itself: the bucket is gone.
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
