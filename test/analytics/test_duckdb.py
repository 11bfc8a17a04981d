"""DuckDB against Cairn twice: its own httpfs extension (from the duckdb-extension-httpfs wheel, loaded from
disk: nothing is downloaded at run time) and an fsspec filesystem registered with duckdb.register_filesystem."""
import io

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pyarrow.compute as pc
import pytest

from data import REGIONS, sales

GROUP_BY = """
    SELECT region, count(*) AS n, sum(qty) AS qty, round(sum(amount), 2) AS amount
    FROM read_parquet('{glob}', hive_partitioning = true)
    WHERE day <> '2026-11-01'
    GROUP BY region ORDER BY region
"""


def _expected(table):
    rows = []
    for region in sorted(REGIONS):
        t = table.filter(pc.and_(pc.equal(table["region"], region), pc.not_equal(table["day"], "2026-11-01")))
        rows.append((region, t.num_rows, pc.sum(t["qty"]).as_py(), round(pc.sum(t["amount"]).as_py(), 2)))
    return rows


@pytest.fixture
def written(arrow_fs, bucket):
    table = sales()
    ds.write_dataset(table, f"{bucket}/sales", format="parquet", filesystem=arrow_fs,
                     partitioning=["region", "day"], partitioning_flavor="hive")
    return table


def test_httpfs_group_by(duckdb_httpfs, bucket, written):
    con = duckdb_httpfs
    got = con.execute(GROUP_BY.format(glob=f"s3://{bucket}/sales/*/*/*.parquet")).fetchall()
    assert [(r, n, q, float(a)) for r, n, q, a in got] == _expected(written)
    files = con.execute(f"SELECT count(*) FROM glob('s3://{bucket}/sales/**/*.parquet')").fetchone()[0]
    assert files == len({(r, d) for r, d in zip(written["region"].to_pylist(), written["day"].to_pylist())})


def test_httpfs_copy_to_cairn(duckdb_httpfs, arrow_fs, s3, bucket, written):
    con = duckdb_httpfs
    con.register("sales", written)
    # COPY ... TO s3:// writes through multipart upload; read it back through boto3 and DuckDB.
    con.execute(f"COPY (SELECT * FROM sales WHERE qty > 5 ORDER BY id) TO 's3://{bucket}/out/q.parquet' (FORMAT parquet)")
    con.execute(f"COPY (SELECT id, region, qty FROM sales ORDER BY id) TO 's3://{bucket}/out/q.csv' (HEADER)")
    raw = s3.get_object(Bucket=bucket, Key="out/q.parquet")["Body"].read()
    want = written.filter(pc.greater(written["qty"], 5)).sort_by("id")
    assert pq.read_table(io.BytesIO(raw)).equals(want)
    csv = s3.get_object(Bucket=bucket, Key="out/q.csv")["Body"].read().decode()
    lines = csv.splitlines()
    assert lines[0] == "id,region,qty" and len(lines) == written.num_rows + 1
    assert lines[1] == f"0,{written['region'][0].as_py()},{written['qty'][0].as_py()}"
    n = con.execute(f"SELECT count(*) FROM read_csv('s3://{bucket}/out/q.csv')").fetchone()[0]
    assert n == written.num_rows

    # A partitioned write: one Hive prefix per region, which pyarrow reads back as a dataset.
    con.execute(f"COPY sales TO 's3://{bucket}/by_region' (FORMAT parquet, PARTITION_BY (region))")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="by_region/")["Contents"]]
    assert sorted({k.split("/")[1] for k in keys}) == sorted(f"region={r}" for r in REGIONS)
    back = ds.dataset(f"{bucket}/by_region", format="parquet", filesystem=arrow_fs, partitioning="hive")
    assert back.to_table(columns=["id", "qty"]).sort_by("id").equals(written.select(["id", "qty"]))


def test_fsspec_registered_filesystem(s3fs_fs, bucket, written):
    con = duckdb.connect()
    con.register_filesystem(s3fs_fs)
    got = con.execute(GROUP_BY.format(glob=f"s3://{bucket}/sales/*/*/*.parquet")).fetchall()
    assert [(r, n, q, float(a)) for r, n, q, a in got] == _expected(written)


def test_httpfs_multipart_copy(duckdb_httpfs, s3, bucket):
    con = duckdb_httpfs
    # 50 GB over at most 10,000 parts: parts of about 5 MiB, so the ~11 MiB CSV goes up in several parts.
    con.execute("SET s3_uploader_max_filesize = '50GB'")
    con.execute(f"COPY (SELECT i, i * 7 % 1000 AS m FROM range(1000000) t(i)) TO 's3://{bucket}/mp.csv'")
    head = s3.head_object(Bucket=bucket, Key="mp.csv")
    assert int(head["ETag"].strip('"').split("-")[1]) >= 2, head["ETag"]
    raw = s3.get_object(Bucket=bucket, Key="mp.csv")["Body"].read()
    assert len(raw) == head["ContentLength"]
    lines = raw.decode().splitlines()
    assert lines[0] == "i,m" and lines[1] == "0,0" and lines[-1] == "999999,993" and len(lines) == 1_000_001
    assert con.execute(f"SELECT count(*), sum(m) FROM read_csv('s3://{bucket}/mp.csv')").fetchone() == (
        1_000_000, sum(i * 7 % 1000 for i in range(1_000_000)))
