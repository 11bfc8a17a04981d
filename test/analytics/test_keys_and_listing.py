"""Keys that each client encodes its own way (space, +, =, %, non-ASCII, ...) written and read through
pyarrow, s3fs, polars and DuckDB, and listings longer than one 1000-key page through each lister."""
import io
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import fs


NAMES = ["sp ace.parquet", "plus+sign.parquet", "eq=x/p.parquet", "pct%25.parquet", "ünï©ødé.parquet",
         "tilde~.parquet", "semi;colon,comma.parquet", "amp&dollar$.parquet", "at@hash#.parquet",
         "quote'.parquet"]
TABLE = pa.table({"a": [1, 2, 3]})


def _parquet() -> bytes:
    buf = io.BytesIO()
    pq.write_table(TABLE, buf)
    return buf.getvalue()


@pytest.mark.parametrize("name", NAMES)
def test_special_keys(name, s3, bucket, arrow_fs, s3fs_fs, polars_options, duckdb_httpfs):
    s3.put_object(Bucket=bucket, Key=f"in/{name}", Body=_parquet())

    # Reads of an object that boto3 stored.
    assert pq.read_table(f"{bucket}/in/{name}", filesystem=arrow_fs).equals(TABLE)
    assert pq.read_table(io.BytesIO(s3fs_fs.cat_file(f"{bucket}/in/{name}"))).equals(TABLE)
    assert pl.read_parquet(f"s3://{bucket}/in/{name}", storage_options=polars_options).height == 3
    con = duckdb_httpfs
    quoted = name.replace("'", "''")
    assert con.execute(f"SELECT sum(a) FROM read_parquet('s3://{bucket}/in/{quoted}')").fetchone()[0] == 6

    # Writes by each client land under exactly the key that boto3 then reads.
    pq.write_table(TABLE, f"{bucket}/arrow/{name}", filesystem=arrow_fs)
    s3fs_fs.pipe_file(f"{bucket}/s3fs/{name}", _parquet())
    pl.from_arrow(TABLE).write_parquet(f"s3://{bucket}/polars/{name}", storage_options=polars_options)
    con.execute(f"COPY (SELECT * FROM range(1, 4) t(a)) TO 's3://{bucket}/duckdb/{quoted}' (FORMAT parquet)")
    for writer in ["arrow", "s3fs", "polars", "duckdb"]:
        raw = s3.get_object(Bucket=bucket, Key=f"{writer}/{name}")["Body"].read()
        assert pq.read_table(io.BytesIO(raw)).column("a").to_pylist() == [1, 2, 3], writer


def test_listings_past_one_page(s3, bucket, arrow_fs, s3fs_fs, polars_options, duckdb_httpfs):
    keys = [f"many/k{i:05d}.csv" for i in range(1234)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=f"v\n{k[6:11]}\n".encode()), keys))
    want = [f"{bucket}/{k}" for k in keys]

    assert s3fs_fs.find(f"{bucket}/many") == want
    assert sorted(s3fs_fs.ls(f"{bucket}/many")) == want
    selector = fs.FileSelector(f"{bucket}/many", recursive=True)
    assert sorted(i.path for i in arrow_fs.get_file_info(selector)) == want
    con = duckdb_httpfs
    assert con.execute(f"SELECT count(*) FROM glob('s3://{bucket}/many/*.csv')").fetchone()[0] == len(keys)
    total = (pl.scan_csv(f"s3://{bucket}/many/*.csv", storage_options=polars_options,
                         schema={"v": pl.Int64}).select(pl.col("v").sum()).collect().item())
    assert total == sum(range(1234))

    s3fs_fs.rm(f"{bucket}/many", recursive=True)  # DeleteObjects in batches of 1000
    assert s3.list_objects_v2(Bucket=bucket, Prefix="many/")["KeyCount"] == 0
