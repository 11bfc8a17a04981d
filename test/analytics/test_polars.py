"""polars (object_store, Rust) against Cairn: scan_parquet with hive partitions, scan_csv, and writes
through its own cloud writer and through s3fs, each checked row for row or byte for byte."""
import io

import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from polars.testing import assert_frame_equal

from data import sales


def _expected_by_region(df: pl.DataFrame) -> pl.DataFrame:
    return (df.filter(pl.col("amount") > 25.0)
              .group_by("region").agg(pl.len().alias("n"), pl.col("qty").sum().alias("qty"))
              .sort("region"))


def test_scan_parquet_hive_partitions(arrow_fs, bucket, polars_options):
    table = sales()
    ds.write_dataset(table, f"{bucket}/sales", format="parquet", filesystem=arrow_fs,
                     partitioning=["region", "day"], partitioning_flavor="hive")
    source = pl.from_arrow(table)

    lf = pl.scan_parquet(f"s3://{bucket}/sales/**/*.parquet", storage_options=polars_options,
                         hive_partitioning=True)
    whole = lf.select(source.columns).collect().sort("id")
    assert_frame_equal(whole, source, check_dtypes=False)

    got = _expected_by_region(lf.collect())
    assert_frame_equal(got, _expected_by_region(source), check_dtypes=False)
    assert got["n"].sum() > 0

    # A predicate on the partition column prunes to the matching prefix.
    eu = lf.filter(pl.col("region") == "eu").select("id").collect().sort("id")
    assert eu["id"].to_list() == source.filter(pl.col("region") == "eu")["id"].to_list()


def test_scan_csv(s3, bucket, polars_options):
    source = pl.from_arrow(sales(rows=1200)).drop("note")
    buf = io.BytesIO()
    source.write_csv(buf)
    s3.put_object(Bucket=bucket, Key="csv/part-0.csv", Body=buf.getvalue())
    # The same rows split over two files, to scan a glob.
    first, second = source.slice(0, 600), source.slice(600)
    for i, part in enumerate([first, second]):
        b = io.BytesIO()
        part.write_csv(b)
        s3.put_object(Bucket=bucket, Key=f"parts/p{i}.csv", Body=b.getvalue())

    one = pl.scan_csv(f"s3://{bucket}/csv/part-0.csv", storage_options=polars_options).collect()
    assert_frame_equal(one, source, check_dtypes=False)  # CSV has no widths: qty comes back Int64
    both = (pl.scan_csv(f"s3://{bucket}/parts/*.csv", storage_options=polars_options)
              .filter(pl.col("qty") > 10).collect().sort("id"))
    assert_frame_equal(both, source.filter(pl.col("qty") > 10), check_dtypes=False)


def test_write_parquet_with_polars_writer(s3, bucket, polars_options):
    source = pl.from_arrow(sales(rows=2000))
    source.write_parquet(f"s3://{bucket}/out/polars.parquet", storage_options=polars_options)
    raw = s3.get_object(Bucket=bucket, Key="out/polars.parquet")["Body"].read()
    assert raw[:4] == b"PAR1" and raw[-4:] == b"PAR1"
    assert_frame_equal(pl.read_parquet(io.BytesIO(raw)), source)
    assert_frame_equal(pl.read_parquet(f"s3://{bucket}/out/polars.parquet", storage_options=polars_options),
                       source)

    # sink_parquet streams a lazy query's result to Cairn.
    (pl.scan_parquet(f"s3://{bucket}/out/polars.parquet", storage_options=polars_options)
       .filter(pl.col("region") == "us")
       .sink_parquet(f"s3://{bucket}/out/us.parquet", storage_options=polars_options))
    us = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key="out/us.parquet")["Body"].read()))
    assert_frame_equal(pl.from_arrow(us), source.filter(pl.col("region") == "us"))


def test_write_parquet_through_s3fs(s3fs_fs, s3, bucket):
    source = pl.from_arrow(sales(rows=1500))
    with s3fs_fs.open(f"{bucket}/out/via-s3fs.parquet", "wb") as f:
        source.write_parquet(f)
    raw = s3.get_object(Bucket=bucket, Key="out/via-s3fs.parquet")["Body"].read()
    assert_frame_equal(pl.read_parquet(io.BytesIO(raw)), source)
    with s3fs_fs.open(f"{bucket}/out/via-s3fs.parquet", "rb") as f:
        assert_frame_equal(pl.read_parquet(f), source)
