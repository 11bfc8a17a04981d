"""pyarrow's S3 filesystem (AWS C++ SDK) over HTTPS: Cairn serves a certificate signed by a CA the test makes
(conftest.py's `tls_cairn`), which pyarrow trusts through `tls_ca_file_path`; the bucket's default encryption
is SSE-S3. Partitioned Parquet, a multipart stream and ranged row-group reads go through pyarrow, are checked
against boto3 (same CA) and are encrypted on the drives. A filesystem that does not trust the CA is refused.
Spark over s3a and HTTPS on the same kind of bucket: test_spark.py."""
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from pyarrow import fs

from data import random_bytes, sales


def https_fs(cairn, ca_file: str | None) -> fs.S3FileSystem:
    return fs.S3FileSystem(access_key=cairn.access_key, secret_key=cairn.secret_key,
                           endpoint_override=f"{cairn.host}:{cairn.port}", scheme="https",
                           region=cairn.region, tls_ca_file_path=ca_file,
                           retry_strategy=fs.AwsStandardS3RetryStrategy(max_attempts=1))


def drive_files(cairn) -> list[Path]:
    root = cairn.log.parent
    return [p for d in ("d1", "d2", "d3", "d4") for p in (root / d).rglob("*") if p.is_file()]


def test_parquet_dataset_in_an_sse_s3_bucket_over_https(tls_cairn, sse_bucket):
    arrow_fs = https_fs(tls_cairn, tls_cairn.verify)
    s3 = tls_cairn.client()
    table = sales(rows=4000, seed=21)
    base = f"{sse_bucket}/sales"
    ds.write_dataset(table, base, format="parquet", filesystem=arrow_fs, partitioning=["region"],
                     partitioning_flavor="hive", basename_template="part-{i}.parquet", max_rows_per_group=500)

    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=sse_bucket)["Contents"] if o["Key"].endswith(".parquet"))
    assert keys == sorted(f"sales/region={r}/part-0.parquet" for r in set(table["region"].to_pylist()))
    for key in keys:
        assert s3.head_object(Bucket=sse_bucket, Key=key)["ServerSideEncryption"] == "AES256"

    back = ds.dataset(base, format="parquet", filesystem=arrow_fs, partitioning="hive").to_table()
    assert back.num_rows == table.num_rows
    assert back.select(["id", "amount", "qty", "note"]).sort_by("id").equals(
        table.select(["id", "amount", "qty", "note"]))

    # One row group of one file: the footer and that group by ranges, each decrypting only what it covers.
    pf = pq.ParquetFile(f"{base}/{keys[0].split('/', 1)[1]}", filesystem=arrow_fs)
    assert pf.metadata.num_row_groups > 1
    whole = pq.read_table(pa.BufferReader(s3.get_object(Bucket=sse_bucket, Key=keys[0])["Body"].read()))
    assert pf.read_row_group(1).equals(whole.slice(500, pf.metadata.row_group(1).num_rows))


def test_multipart_stream_encrypted_on_the_drives(tls_cairn, sse_bucket):
    arrow_fs = https_fs(tls_cairn, tls_cairn.verify)
    s3 = tls_cairn.client()
    # 12 MiB through an output stream (the C++ SDK's multipart upload at 10 MiB parts), with a marker that
    # must not reach any drive in clear.
    marker = b"CAIRN-HTTPS-PLAINTEXT-MARKER"
    blob = (marker + random_bytes(1 << 20, seed=8)) * 12 + marker
    with arrow_fs.open_output_stream(f"{sse_bucket}/big.bin") as out:
        for i in range(0, len(blob), 1 << 20):
            out.write(blob[i:i + (1 << 20)])
    head = s3.head_object(Bucket=sse_bucket, Key="big.bin")
    assert head["ContentLength"] == len(blob)
    assert head["ETag"].endswith('-2"'), head["ETag"]
    assert head["ServerSideEncryption"] == "AES256"
    with arrow_fs.open_input_file(f"{sse_bucket}/big.bin") as f:
        assert f.read_at(4096, 11 << 20) == blob[11 << 20:(11 << 20) + 4096]
        assert f.readall() == blob
    assert s3.get_object(Bucket=sse_bucket, Key="big.bin")["Body"].read() == blob

    files = drive_files(tls_cairn)
    assert files
    assert not [p for p in files if marker in p.read_bytes()]


def test_untrusted_certificate_is_refused(tls_cairn, sse_bucket):
    s3 = tls_cairn.client()
    s3.put_object(Bucket=sse_bucket, Key="k", Body=b"kept")
    with pytest.raises(OSError):
        # The system's roots only: the test's CA is not among them.
        https_fs(tls_cairn, None).open_input_file(f"{sse_bucket}/k").readall()
    with pytest.raises(OSError):
        with https_fs(tls_cairn, None).open_output_stream(f"{sse_bucket}/k") as out:
            out.write(b"replaced")
    assert s3.get_object(Bucket=sse_bucket, Key="k")["Body"].read() == b"kept"
    # The same filesystem trusting the CA reads it.
    assert https_fs(tls_cairn, tls_cairn.verify).open_input_file(f"{sse_bucket}/k").readall() == b"kept"
