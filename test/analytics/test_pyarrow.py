"""pyarrow's own S3 filesystem (AWS C++ SDK) against Cairn: partitioned Parquet datasets, filtered scans,
ranged reads and multipart writes, each checked against what a plain boto3 client sees."""
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyarrow import fs

from data import DAYS, REGIONS, random_bytes, sales


def _normalise(table: pa.Table) -> pa.Table:
    """Partition columns come back dictionary-encoded and last; cast and reorder to compare with the source."""
    cols = {}
    for name in ["id", "region", "day", "amount", "qty", "note"]:
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        cols[name] = col
    return pa.table(cols).sort_by("id")


def test_partitioned_dataset_roundtrip(arrow_fs, bucket, s3):
    table = sales()
    base = f"{bucket}/sales"
    ds.write_dataset(table, base, format="parquet", filesystem=arrow_fs,
                     partitioning=["region", "day"], partitioning_flavor="hive",
                     basename_template="part-{i}.parquet")

    # pyarrow also writes empty "dir/" marker objects, as it does on AWS; the data files are the rest.
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"] if not o["Key"].endswith("/"))
    present = {(r, d) for r, d in zip(table["region"].to_pylist(), table["day"].to_pylist())}
    assert keys == sorted(f"sales/region={r}/day={d}/part-0.parquet" for r, d in present)

    dataset = ds.dataset(base, format="parquet", filesystem=arrow_fs, partitioning="hive")
    assert sorted(dataset.files) == sorted(f"{bucket}/{k}" for k in keys)
    back = _normalise(dataset.to_table())
    assert back.equals(table)

    # Every file read through boto3 is the same Parquet that pyarrow reads through its own filesystem.
    key = keys[0]
    raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with arrow_fs.open_input_file(f"{bucket}/{key}") as f:
        assert f.size() == len(raw)
        assert f.readall() == raw


def test_dataset_scan_with_filters(arrow_fs, bucket):
    table = sales()
    base = f"{bucket}/sales"
    ds.write_dataset(table, base, format="parquet", filesystem=arrow_fs,
                     partitioning=["region", "day"], partitioning_flavor="hive",
                     max_rows_per_group=200)
    dataset = ds.dataset(base, format="parquet", filesystem=arrow_fs, partitioning="hive")

    # Partition pruning plus a row filter and a projection.
    expr = (ds.field("region") == "eu") & (ds.field("day") != DAYS[0]) & (ds.field("amount") > 50.0)
    got = dataset.to_table(filter=expr, columns=["id", "amount", "qty"]).sort_by("id")
    mask = pc.and_(pc.and_(pc.equal(table["region"], "eu"), pc.not_equal(table["day"], DAYS[0])),
                   pc.greater(table["amount"], 50.0))
    want = table.filter(mask).select(["id", "amount", "qty"])
    assert got.num_rows > 0
    assert got.equals(want)

    # Only the pruned fragments are touched.
    fragments = list(dataset.get_fragments(filter=ds.field("region") == "apac"))
    assert fragments and all("region=apac/" in f.path for f in fragments)

    # Aggregates over a scanner with a filter on a non-partition column.
    scanned = dataset.scanner(filter=ds.field("qty") >= 10, columns=["qty"]).to_table()
    assert pc.sum(scanned["qty"]).as_py() == pc.sum(table.filter(pc.greater_equal(table["qty"], 10))["qty"]).as_py()
    assert dataset.count_rows() == table.num_rows
    assert dataset.count_rows(filter=ds.field("region") == "us") == pc.sum(pc.equal(table["region"], "us")).as_py()


def test_ranged_reads_and_parquet_footer(arrow_fs, bucket, s3):
    blob = random_bytes(3 * 1024 * 1024 + 17, seed=3)
    s3.put_object(Bucket=bucket, Key="blob.bin", Body=blob)
    with arrow_fs.open_input_file(f"{bucket}/blob.bin") as f:
        assert f.size() == len(blob)
        assert f.read_at(1000, 12345) == blob[12345:12345 + 1000]
        assert f.read_at(100, len(blob) - 40) == blob[-40:]  # past the end: clamped, like S3
        f.seek(2 * 1024 * 1024)
        assert f.read(4096) == blob[2 * 1024 * 1024:2 * 1024 * 1024 + 4096]
        assert f.tell() == 2 * 1024 * 1024 + 4096

    # A Parquet file with many row groups: reading one row group needs only the footer and that group.
    table = sales(rows=5000)
    pq.write_table(table, f"{bucket}/one.parquet", filesystem=arrow_fs, row_group_size=500)
    pf = pq.ParquetFile(f"{bucket}/one.parquet", filesystem=arrow_fs)
    assert pf.metadata.num_row_groups == 10
    assert pf.metadata.num_rows == 5000
    assert pf.read_row_group(7).equals(table.slice(3500, 500))


def test_multipart_output_stream_and_listing(arrow_fs, bucket, s3):
    # 12 MiB through an output stream: the C++ SDK switches to multipart upload at its 10 MiB part size.
    blob = random_bytes(12 * 1024 * 1024 + 5, seed=4)
    with arrow_fs.open_output_stream(f"{bucket}/big/blob.bin") as out:
        for i in range(0, len(blob), 1 << 20):
            out.write(blob[i:i + (1 << 20)])
    head = s3.head_object(Bucket=bucket, Key="big/blob.bin")
    assert head["ContentLength"] == len(blob)
    assert "-" in head["ETag"], "expected a multipart ETag"
    assert s3.get_object(Bucket=bucket, Key="big/blob.bin")["Body"].read() == blob

    # Directories are prefixes; listing, copy, move and delete through the filesystem API.
    arrow_fs.create_dir(f"{bucket}/dir/sub")
    with arrow_fs.open_output_stream(f"{bucket}/dir/sub/a.txt") as out:
        out.write(b"alpha")
    arrow_fs.copy_file(f"{bucket}/dir/sub/a.txt", f"{bucket}/dir/b.txt")
    arrow_fs.move(f"{bucket}/dir/b.txt", f"{bucket}/dir/c.txt")
    infos = arrow_fs.get_file_info(fs.FileSelector(f"{bucket}/dir", recursive=True))
    by_path = {i.path: i for i in infos}
    assert by_path[f"{bucket}/dir/sub"].type == fs.FileType.Directory
    assert by_path[f"{bucket}/dir/sub/a.txt"].size == 5
    assert by_path[f"{bucket}/dir/c.txt"].type == fs.FileType.File
    assert f"{bucket}/dir/b.txt" not in by_path
    assert arrow_fs.get_file_info(f"{bucket}/dir/missing").type == fs.FileType.NotFound

    arrow_fs.delete_dir_contents(f"{bucket}/dir")
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert all(not k.startswith("dir/") or k == "dir/" for k in left)
