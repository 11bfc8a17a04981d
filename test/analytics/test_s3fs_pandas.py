"""s3fs / fsspec (aiobotocore) and pandas over s3:// against Cairn: listing, globbing, read-ahead block
reads, ranged cat, multipart writes, removal; pandas CSV and Parquet through the same filesystem."""
import io

import pandas as pd
import pyarrow.parquet as pq
import pytest

from data import random_bytes, sales


def test_ls_glob_info_rm(s3fs_fs, s3, bucket):
    for key in ["a/1.csv", "a/2.csv", "a/b/3.csv", "a/b/4.json", "c.txt"]:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert sorted(s3fs_fs.ls(f"{bucket}/a", detail=False)) == [f"{bucket}/a/1.csv", f"{bucket}/a/2.csv",
                                                               f"{bucket}/a/b"]
    entries = {e["name"]: e for e in s3fs_fs.ls(f"{bucket}/a", detail=True)}
    assert entries[f"{bucket}/a/b"]["type"] == "directory"
    assert entries[f"{bucket}/a/1.csv"]["size"] == len("a/1.csv")
    assert sorted(s3fs_fs.glob(f"{bucket}/a/**/*.csv")) == [f"{bucket}/a/1.csv", f"{bucket}/a/2.csv",
                                                             f"{bucket}/a/b/3.csv"]
    assert sorted(s3fs_fs.glob(f"{bucket}/*.txt")) == [f"{bucket}/c.txt"]
    assert sorted(s3fs_fs.find(f"{bucket}/a/b")) == [f"{bucket}/a/b/3.csv", f"{bucket}/a/b/4.json"]
    assert s3fs_fs.isdir(f"{bucket}/a/b") and s3fs_fs.isfile(f"{bucket}/c.txt")
    assert not s3fs_fs.exists(f"{bucket}/a/missing.csv")
    info = s3fs_fs.info(f"{bucket}/a/b/4.json")
    assert info["size"] == len("a/b/4.json") and info["type"] == "file"
    assert s3fs_fs.du(f"{bucket}/a") == sum(len(k) for k in ["a/1.csv", "a/2.csv", "a/b/3.csv", "a/b/4.json"])

    s3fs_fs.rm(f"{bucket}/a", recursive=True)  # one DeleteObjects batch
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert left == ["c.txt"]
    s3fs_fs.rm(f"{bucket}/c.txt")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


@pytest.mark.parametrize("cache_type", ["readahead", "bytes", "blockcache"])
def test_open_with_read_ahead_blocks(s3fs_fs, s3, bucket, cache_type):
    blob = random_bytes(5 * 1024 * 1024 + 321, seed=5)
    s3.put_object(Bucket=bucket, Key="blob.bin", Body=blob)
    with s3fs_fs.open(f"{bucket}/blob.bin", "rb", block_size=1024 * 1024, cache_type=cache_type) as f:
        assert f.size == len(blob)
        assert f.read(100) == blob[:100]
        f.seek(3 * 1024 * 1024 - 10)
        assert f.read(2 * 1024 * 1024) == blob[3 * 1024 * 1024 - 10: 5 * 1024 * 1024 - 10]
        f.seek(len(blob) - 50)
        assert f.read(1000) == blob[-50:]  # asks past the end, gets what exists
        f.seek(0)
        assert f.read() == blob
    assert s3fs_fs.cat_file(f"{bucket}/blob.bin", start=7, end=70007) == blob[7:70007]
    assert s3fs_fs.cat_ranges([f"{bucket}/blob.bin"] * 2, [0, len(blob) - 3], [3, len(blob)]) == [blob[:3], blob[-3:]]


@pytest.mark.parametrize("checksums", ["defaults", "when_required"])
def test_write_multipart_and_pipe(cairn, s3, bucket, checksums):
    import s3fs
    # At its defaults botocore sends CRC32 trailers on aws-chunked uploads; "when_required" sends none.
    extra = {} if checksums == "defaults" else {"request_checksum_calculation": "when_required",
                                                 "response_checksum_validation": "when_required"}
    s3fs_fs = s3fs.S3FileSystem(key=cairn.access_key, secret=cairn.secret_key, endpoint_url=cairn.endpoint,
                                client_kwargs={"region_name": cairn.region}, skip_instance_cache=True,
                                config_kwargs={"s3": {"addressing_style": "path"}, **extra})
    blob = random_bytes(11 * 1024 * 1024 + 9, seed=6)
    # 5 MiB blocks: s3fs uploads a part whenever its buffer passes the block size, so several parts.
    with s3fs_fs.open(f"{bucket}/mp.bin", "wb", block_size=5 * 1024 * 1024) as f:
        for i in range(0, len(blob), 1_000_000):
            f.write(blob[i:i + 1_000_000])
    head = s3.head_object(Bucket=bucket, Key="mp.bin")
    assert head["ContentLength"] == len(blob)
    assert int(head["ETag"].strip('"').split("-")[1]) >= 2, head["ETag"]
    assert s3.get_object(Bucket=bucket, Key="mp.bin")["Body"].read() == blob

    s3fs_fs.pipe(f"{bucket}/small.txt", b"hello cairn\n")
    assert s3.get_object(Bucket=bucket, Key="small.txt")["Body"].read() == b"hello cairn\n"
    s3fs_fs.copy(f"{bucket}/small.txt", f"{bucket}/copy.txt")
    assert s3fs_fs.cat(f"{bucket}/copy.txt") == b"hello cairn\n"
    s3fs_fs.mv(f"{bucket}/copy.txt", f"{bucket}/moved.txt")
    assert not s3fs_fs.exists(f"{bucket}/copy.txt") and s3fs_fs.cat(f"{bucket}/moved.txt") == b"hello cairn\n"


def test_pandas_csv_and_parquet(cairn, s3, bucket):
    opts = {"key": cairn.access_key, "secret": cairn.secret_key,
            "client_kwargs": {"endpoint_url": cairn.endpoint, "region_name": cairn.region},
            "config_kwargs": {"s3": {"addressing_style": "path"}}}
    df = sales(rows=2500).to_pandas()

    df.to_csv(f"s3://{bucket}/pd/sales.csv", index=False, storage_options=opts)
    raw = s3.get_object(Bucket=bucket, Key="pd/sales.csv")["Body"].read()
    assert raw == df.to_csv(index=False).encode()
    back = pd.read_csv(f"s3://{bucket}/pd/sales.csv", storage_options=opts)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)

    df.to_parquet(f"s3://{bucket}/pd/sales.parquet", index=False, storage_options=opts)
    raw = s3.get_object(Bucket=bucket, Key="pd/sales.parquet")["Body"].read()
    pd.testing.assert_frame_equal(pq.read_table(io.BytesIO(raw)).to_pandas(), df)
    back = pd.read_parquet(f"s3://{bucket}/pd/sales.parquet", storage_options=opts,
                           columns=["id", "region", "amount"], filters=[("region", "==", "eu")])
    want = df[df.region == "eu"][["id", "region", "amount"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(back.reset_index(drop=True), want)
