"""The light readers (minutes): pyarrow datasets (whole, two of eight columns, a filter that prunes row groups),
polars scan_parquet of the whole dataset, DuckDB read_parquet through httpfs (two columns), and boto3 reading the
same files whole (8 threads, 1 MiB reads: the readers' byte stream without their decoding). Each run builds its
client afresh, so no reader keeps metadata or data from an earlier run."""
from pathlib import Path

import datasets as ds_

READERS = ["pyarrow-whole", "pyarrow-projected", "pyarrow-filtered", "polars-scan", "duckdb-httpfs", "boto3-get"]


class Group:
    def __init__(self, targets, data_dir: Path, scale: float):
        self.targets = {t["name"]: t for t in targets}
        self.data_dir = data_dir
        self.scale = scale
        self.files = {}

    def prepare(self):
        import pyarrow.parquet as pq
        self.files = ds_.sales(self.data_dir, self.scale)
        ds_.upload(self.targets.values(), self.files)
        cutoff = ds_.sales_cutoff(self.scale)

        def keeps(rg):  # the row groups whose id statistics may hold ids below the cutoff
            stats = rg.column(0).statistics
            return stats is None or stats.min < cutoff

        whole = ds_.whole(self.files)
        projected = ds_.parquet_ranges(self.files, columns=ds_.PROJECTED)
        filtered = ds_.parquet_ranges(self.files, row_group_filter=keeps)
        self.rows = sum(pq.ParquetFile(p).metadata.num_rows for p in self.files.values())
        return {
            "pyarrow-whole": {"unit": "rows", "ranges": whole},
            "pyarrow-projected": {"unit": "rows", "ranges": projected},
            "pyarrow-filtered": {"unit": "rows", "ranges": filtered},
            "polars-scan": {"unit": "rows", "ranges": whole},
            "duckdb-httpfs": {"unit": "rows", "ranges": projected},
            "boto3-get": {"unit": "objects", "ranges": whole},
        }

    def run(self, reader: str, target: str) -> int:
        t = self.targets[target]
        if reader.startswith("pyarrow-"):
            return self._pyarrow(reader, t)
        if reader == "polars-scan":
            import polars as pl
            options = {"aws_endpoint_url": t["endpoint"], "aws_access_key_id": t["access_key"],
                       "aws_secret_access_key": t["secret_key"], "aws_region": t["region"],
                       "aws_allow_http": "true"}
            df = pl.scan_parquet(f"s3://{t['bucket']}/sales/*.parquet", storage_options=options).collect()
            return _expect(df.height, self.rows, reader)
        if reader == "duckdb-httpfs":
            return self._duckdb(t)
        if reader == "boto3-get":
            return self._boto3(t)
        raise ValueError(f"unknown reader {reader}")

    def _pyarrow(self, reader: str, t) -> int:
        import pyarrow.dataset as ds
        from pyarrow import fs
        s3 = fs.S3FileSystem(access_key=t["access_key"], secret_key=t["secret_key"],
                             endpoint_override=t["endpoint"].split("://", 1)[1], scheme="http", region=t["region"])
        data = ds.dataset(f"{t['bucket']}/sales/", format="parquet", filesystem=s3)
        if reader == "pyarrow-whole":
            return _expect(data.to_table().num_rows, self.rows, reader)
        if reader == "pyarrow-projected":
            return _expect(data.to_table(columns=ds_.PROJECTED).num_rows, self.rows, reader)
        cutoff = ds_.sales_cutoff(self.scale)
        return _expect(data.to_table(filter=ds.field("id") < cutoff).num_rows, cutoff, reader)

    def _duckdb(self, t) -> int:
        import duckdb
        import duckdb_extension_httpfs
        ext = (Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}"
               / "httpfs.duckdb_extension")
        con = duckdb.connect()
        try:
            con.execute(f"LOAD '{ext}'")
            host = t["endpoint"].split("://", 1)[1]
            con.execute(f"""CREATE SECRET s (TYPE s3, KEY_ID '{t['access_key']}', SECRET '{t['secret_key']}',
                            ENDPOINT '{host}', URL_STYLE 'path', USE_SSL false, REGION '{t['region']}')""")
            rows, _ = con.execute(
                f"SELECT count(*), sum(v1) FROM read_parquet('s3://{t['bucket']}/sales/*.parquet')").fetchone()
            return _expect(rows, self.rows, "duckdb-httpfs")
        finally:
            con.close()

    def _boto3(self, t) -> int:
        from concurrent.futures import ThreadPoolExecutor
        s3 = ds_.client(t)
        def get(item):
            key, path = item
            body = s3.get_object(Bucket=t["bucket"], Key=key)["Body"]
            got = 0
            while chunk := body.read(1 << 20):
                got += len(chunk)
            if got != path.stat().st_size:
                raise AssertionError(f"boto3-get: {key} gave {got} bytes, expected {path.stat().st_size}")
            return 1
        with ThreadPoolExecutor(8) as pool:
            return _expect(sum(pool.map(get, self.files.items())), len(self.files), "boto3-get")

    def close(self):
        pass


def _expect(got: int, want: int, reader: str) -> int:
    if got != want:
        raise AssertionError(f"{reader}: {got} rows, expected {want}")
    return got
