"""`cairn gateway nas`: Parquet and CSV files put in a folder by plain file copies (before the gateway starts
and while it runs) read through S3 with boto3 and pyarrow's own S3 filesystem, and queried with S3 Select."""
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from pyarrow import fs

from conftest import run_cairn  # test/analytics/conftest.py, from test/python/conftest.py
from data import DAYS, REGIONS, sales


def _place_dataset(table: pa.Table, dest: Path) -> list[str]:
    """Writes a hive-partitioned Parquet dataset to a scratch folder, then copies its files into `dest` one by
    one with plain file copies (as a user or another program would). Returns the copied paths, relative."""
    copied = []
    with tempfile.TemporaryDirectory() as scratch:
        ds.write_dataset(table, scratch, format="parquet", partitioning=["region", "day"],
                         partitioning_flavor="hive", basename_template="part-{i}.parquet", max_rows_per_group=500)
        for f in sorted(Path(scratch).rglob("*.parquet")):
            rel = f.relative_to(scratch)
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest / rel)
            copied.append(str(rel))
    return copied


@pytest.fixture(scope="module")
def share(tmp_path_factory):
    root = tmp_path_factory.mktemp("nas") / "share"
    (root / "lake").mkdir(parents=True)
    files = _place_dataset(sales(), root / "lake" / "sales")
    pcsv.write_csv(sales(400, seed=3).drop_columns(["note"]), str(root / "lake" / "small.csv"))
    return root, files


@pytest.fixture(scope="module")
def nas(share, tmp_path_factory):
    root, _ = share
    with run_cairn(tmp_path_factory.mktemp("nas-log"), command=("gateway", "nas", str(root))) as server:
        yield server


@pytest.fixture
def arrow_nas(nas):
    return fs.S3FileSystem(access_key=nas.access_key, secret_key=nas.secret_key,
                           endpoint_override=f"{nas.host}:{nas.port}", scheme="http", region=nas.region)


def _normalise(table: pa.Table) -> pa.Table:
    cols = {}
    for name in ["id", "region", "day", "amount", "qty", "note"]:
        col = table.column(name)
        cols[name] = col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col
    return pa.table(cols).sort_by("id")


def test_boto3_sees_the_copied_files_byte_for_byte(nas, share):
    root, files = share
    s3 = nas.client()
    assert "lake" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="lake", Prefix="sales/", PaginationConfig={"PageSize": 3}):
        keys += [o["Key"] for o in page.get("Contents", [])]
    assert keys == sorted(f"sales/{f}" for f in files)
    for f in files[:3]:
        body = s3.get_object(Bucket="lake", Key=f"sales/{f}")["Body"].read()
        assert body == (root / "lake" / "sales" / f).read_bytes()
    top = s3.list_objects_v2(Bucket="lake", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["sales/"]
    assert [o["Key"] for o in top["Contents"]] == ["small.csv"]


def test_pyarrow_reads_the_dataset_with_pruning_and_filters(arrow_nas):
    dataset = ds.dataset("lake/sales", format="parquet", filesystem=arrow_nas, partitioning="hive")
    assert _normalise(dataset.to_table()).equals(sales())
    expr = (ds.field("region") == REGIONS[0]) & (ds.field("day") == DAYS[1]) & (ds.field("amount") > 50.0)
    got = dataset.to_table(filter=expr, columns=["id", "amount"]).sort_by("id")
    src = sales()
    want = [i for i, r, d, a in zip(src["id"].to_pylist(), src["region"].to_pylist(), src["day"].to_pylist(),
                                     src["amount"].to_pylist()) if r == REGIONS[0] and d == DAYS[1] and a > 50.0]
    assert got["id"].to_pylist() == want
    # Ranged reads: the footer and single row groups of one file.
    one = dataset.files[0]
    with arrow_nas.open_input_file(one) as f:
        meta = pq.ParquetFile(f).metadata
        assert meta.num_row_groups >= 1
        assert pq.ParquetFile(f).read_row_group(0).num_rows == meta.row_group(0).num_rows


def test_csv_through_pyarrow_and_s3_select(nas, arrow_nas):
    with arrow_nas.open_input_stream("lake/small.csv") as f:
        table = pcsv.read_csv(f)
    src = sales(400, seed=3)
    assert table["id"].to_pylist() == src["id"].to_pylist()
    s3 = nas.client()
    res = s3.select_object_content(
        Bucket="lake", Key="small.csv", ExpressionType="SQL",
        Expression="SELECT s.id FROM S3Object s WHERE s.region = 'eu' AND CAST(s.qty AS INT) > 10",
        InputSerialization={"CSV": {"FileHeaderInfo": "USE"}}, OutputSerialization={"CSV": {}})
    out = b"".join(ev["Records"]["Payload"] for ev in res["Payload"] if "Records" in ev).decode()
    want = [i for i, r, q in zip(src["id"].to_pylist(), src["region"].to_pylist(), src["qty"].to_pylist())
            if r == "eu" and q > 10]
    assert [int(x) for x in out.split()] == want


def test_a_file_copied_in_while_running_is_served(nas, share, arrow_nas):
    root, _ = share
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(scratch) / "late.parquet"
        pq.write_table(sales(50, seed=11), local)
        (root / "lake" / "incoming").mkdir(exist_ok=True)
        shutil.copyfile(local, root / "lake" / "incoming" / "late.parquet")
    got = pq.read_table("lake/incoming/late.parquet", filesystem=arrow_nas)
    assert got.equals(sales(50, seed=11))
    head = nas.client().head_object(Bucket="lake", Key="incoming/late.parquet")
    assert head["ContentLength"] == (root / "lake" / "incoming" / "late.parquet").stat().st_size


def test_pyarrow_write_dataset_to_the_gateway_and_read_it_back(share, arrow_nas):
    """pyarrow's write_dataset makes each partition's folder (create_dir: an empty PUT of `region=eu/`, a folder
    marker) before it writes the files into it; the gateway makes plain folders of them."""
    root, _ = share
    table = sales(600, seed=21)
    ds.write_dataset(table, "lake/written", filesystem=arrow_nas, format="parquet", partitioning=["region"],
                     partitioning_flavor="hive", basename_template="part-{i}.parquet")
    on_disk = sorted(str(p.relative_to(root / "lake" / "written")) for p in (root / "lake" / "written").rglob("*"))
    assert on_disk == sorted([f"region={r}" for r in REGIONS] + [f"region={r}/part-0.parquet" for r in REGIONS])
    back = ds.dataset("lake/written", format="parquet", filesystem=arrow_nas, partitioning="hive")
    assert _normalise(back.to_table()).equals(_normalise(table))


def test_pyarrow_folders_made_seen_and_removed(share, arrow_nas):
    root, _ = share
    arrow_nas.create_dir("lake/made/deep")
    assert (root / "lake" / "made" / "deep").is_dir()
    assert arrow_nas.get_file_info("lake/made/deep").type == fs.FileType.Directory
    listed = arrow_nas.get_file_info(fs.FileSelector("lake/made", recursive=True))
    assert [(i.path, i.type) for i in listed] == [("lake/made/deep", fs.FileType.Directory)]
    arrow_nas.delete_dir("lake/made")
    assert not (root / "lake" / "made").exists()
    assert arrow_nas.get_file_info("lake/made").type == fs.FileType.NotFound
