"""Data of the reader bench: generated once into the data folder (outside the repository), uploaded to every
target, and described as the byte ranges each reader needs (what the raw GET baseline fetches).

- sales/: a Parquet dataset of 8 files (8 columns, 4 row groups each; ~65 MB per file at scale 1), ids
  ascending over files and row groups, so a filter on id prunes row groups by their statistics.
- samples/: ML samples, one object each (s3torchconnector's map and iterable datasets).
- shards/: large objects read whole in ranged parts (s3torchconnector's reader of one big object).
- tfrecords/: TFRecord shards (written by the tensorflow group itself)."""
import binascii
import os
from pathlib import Path

SALES_FILES = 8
ROW_GROUPS = 4
SALES_COLUMNS = ["id", "region", "qty", "v1", "v2", "v3", "v4", "note"]
PROJECTED = ["id", "v1"]
REGIONS = ["eu", "us", "apac", "latam", "mena", "anz", "nordics", "iberia"]


def client(target):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=target["endpoint"], aws_access_key_id=target["access_key"],
                        aws_secret_access_key=target["secret_key"], region_name=target["region"],
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3},
                                      max_pool_connections=16))


def upload(targets, files: dict[str, Path]) -> None:
    """Each file as one PUT (no multipart) to every target, unless an object of that size is there."""
    from concurrent.futures import ThreadPoolExecutor
    for t in targets:
        s3 = client(t)
        try:
            s3.create_bucket(Bucket=t["bucket"])
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass

        def put(item, s3=s3, t=t):
            key, path = item
            size = path.stat().st_size
            try:
                if s3.head_object(Bucket=t["bucket"], Key=key)["ContentLength"] == size:
                    return
            except s3.exceptions.ClientError:
                pass
            with open(path, "rb") as f:
                s3.put_object(Bucket=t["bucket"], Key=key, Body=f, ContentLength=size)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(put, files.items()))


def _strings(rng, n: int, width: int):
    """n random hex strings of `width` characters, built straight into an Arrow string array."""
    import numpy as np
    import pyarrow as pa
    data = binascii.hexlify(rng.bytes(n * width // 2))
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def sales(data_dir: Path, scale: float) -> dict[str, Path]:
    """The Parquet dataset (generated on first use): key -> local file."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    rows = int(1_000_000 * scale)
    folder = data_dir / f"sales-{rows}"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for i in range(SALES_FILES):
        path = folder / f"part-{i:02d}.parquet"
        files[f"sales/part-{i:02d}.parquet"] = path
        if path.exists():
            continue
        rng = np.random.default_rng(1000 + i)
        table = pa.table({
            "id": np.arange(i * rows, (i + 1) * rows, dtype=np.int64),
            "region": pa.array(np.array(REGIONS)[rng.integers(0, len(REGIONS), rows)]),
            "qty": rng.integers(1, 100, rows).astype(np.int32),
            **{f"v{j}": rng.standard_normal(rows) for j in range(1, 5)},
            "note": _strings(rng, rows, 16),
        })
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp, row_group_size=-(-rows // ROW_GROUPS), compression="snappy")
        os.replace(tmp, path)
    return files


def sales_cutoff(scale: float) -> int:
    """The id bound of the filtered read: the first row group of the first file (1/32 of the rows)."""
    return int(1_000_000 * scale) // ROW_GROUPS


def parquet_ranges(files: dict[str, Path], columns=None, row_group_filter=None) -> list[list]:
    """[key, first, last] of the column chunks a reader needs (all or `columns`, of the row groups the
    filter keeps), plus each file's footer (the last 8 bytes and the metadata they announce)."""
    import pyarrow.parquet as pq
    out = []
    for key, path in files.items():
        meta = pq.ParquetFile(path).metadata
        size = path.stat().st_size
        footer = meta.serialized_size + 8
        out.append([key, size - footer, size - 1])
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            if row_group_filter and not row_group_filter(rg):
                continue
            for c in range(rg.num_columns):
                col = rg.column(c)
                if columns and col.path_in_schema not in columns:
                    continue
                start = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
                out.append([key, start, start + col.total_compressed_size - 1])
    return out


def footers(files: dict[str, Path]) -> list[list]:
    """[key, first, last] of each file's footer (what a reader of row counts only needs)."""
    return [r for r in parquet_ranges(files, row_group_filter=lambda rg: False)]


def whole(files: dict[str, Path]) -> list[list]:
    return [[key, 0, path.stat().st_size - 1] for key, path in files.items()]


def blobs(data_dir: Path, name: str, count: int, size: int) -> dict[str, Path]:
    """`count` objects of `size` random bytes (generated on first use): key -> local file."""
    import numpy as np
    folder = data_dir / f"{name}-{count}x{size}"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    rng = np.random.default_rng(size + count)
    for i in range(count):
        path = folder / f"{i:05d}.bin"
        files[f"{name}/{i:05d}.bin"] = path
        if not path.exists() or path.stat().st_size != size:
            path.write_bytes(rng.bytes(size))
    return files
