"""Readers' habits, one request pattern each, measured per request (main.ts reports the server's CPU time per
request): HEAD then GET with If-Match (the ETag the HEAD gave); GET of one part of a multipart object
(partNumber); a Parquet footer by suffix range (bytes=-65536) asked again and again; and a Parquet open as
pyarrow and Spark do it: the last 8 bytes, the footer they announce, then two column chunks of 4 MiB. Four
threads, each with its own boto3 client, over 8 objects of 64 MiB (and a multipart one of 3 x 8 MiB)."""
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import datasets as ds_

OBJECTS, SIZE = 8, 64 << 20
PART = 8 << 20
THREADS = 4
ROUNDS = 60  # per thread

READERS = ["habit-head-get-if-match", "habit-part-number", "habit-footer-suffix", "habit-parquet-open"]


class Group:
    def __init__(self, targets, data_dir: Path, scale: float):
        self.targets = {t["name"]: t for t in targets}
        self.data_dir = data_dir

    def prepare(self):
        self.files = ds_.blobs(self.data_dir, "habits", OBJECTS, SIZE)
        ds_.upload(self.targets.values(), self.files)
        for t in self.targets.values():
            s3 = ds_.client(t)
            up = s3.create_multipart_upload(Bucket=t["bucket"], Key="habits/multipart.bin")
            parts = []
            with open(next(iter(self.files.values())), "rb") as f:
                for n in (1, 2, 3):
                    r = s3.upload_part(Bucket=t["bucket"], Key="habits/multipart.bin", UploadId=up["UploadId"],
                                       PartNumber=n, Body=f.read(PART))
                    parts.append({"PartNumber": n, "ETag": r["ETag"]})
            s3.complete_multipart_upload(Bucket=t["bucket"], Key="habits/multipart.bin", UploadId=up["UploadId"],
                                         MultipartUpload={"Parts": parts})
        # No raw baseline: these are measured per request.
        return {name: {"unit": "requests", "ranges": []} for name in READERS}

    def run(self, reader: str, target: str) -> int:
        t = self.targets[target]
        keys = sorted(self.files)
        clients = [ds_.client(t) for _ in range(THREADS)]
        habit = getattr(self, reader.replace("habit-", "_").replace("-", "_"))

        def worker(i: int) -> int:
            s3, n = clients[i], 0
            for r in range(ROUNDS):
                n += habit(s3, t["bucket"], keys[(i + r) % len(keys)])
            return n

        with ThreadPoolExecutor(THREADS) as pool:
            return sum(pool.map(worker, range(THREADS)))

    @staticmethod
    def _head_get_if_match(s3, bucket, key) -> int:
        etag = s3.head_object(Bucket=bucket, Key=key)["ETag"]
        body = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag, Range="bytes=0-1048575")["Body"].read()
        _check(len(body) == 1 << 20)
        return 2

    @staticmethod
    def _part_number(s3, bucket, key) -> int:
        r = s3.get_object(Bucket=bucket, Key="habits/multipart.bin", PartNumber=2)
        _check(len(r["Body"].read()) == PART and r["PartsCount"] == 3)
        return 1

    @staticmethod
    def _footer_suffix(s3, bucket, key) -> int:
        _check(len(s3.get_object(Bucket=bucket, Key=key, Range="bytes=-65536")["Body"].read()) == 65536)
        return 1

    @staticmethod
    def _parquet_open(s3, bucket, key) -> int:
        get = lambda rng: s3.get_object(Bucket=bucket, Key=key, Range=rng)["Body"].read()  # noqa: E731
        _check(len(get("bytes=-8")) == 8)
        _check(len(get(f"bytes={SIZE - 8 - 40000}-{SIZE - 9}")) == 40000)
        for start in (5_000_000, 30_000_000):
            _check(len(get(f"bytes={start}-{start + (4 << 20) - 1}")) == 4 << 20)
        return 4

    def close(self):
        pass


def _check(ok: bool) -> None:
    if not ok:
        raise AssertionError("unexpected answer")
