"""TensorFlow tf.data over ranged reads: 8 TFRecord shards of ~32 MiB (records of ~100 KiB: a label and a
payload), each streamed by a generator that reads it in 8 MiB ranged GETs through boto3 one after the other
(tensorflow-io's S3 filesystem stops at TF 2.17; this is how current TensorFlow users read S3), interleaved
4 at a time, parsed with tf.io.parse_single_example and prefetched."""
import struct
from pathlib import Path

import datasets as ds_

SHARDS, RECORDS, PAYLOAD = 8, 320, 100 * 1024
CHUNK = 8 << 20
PARALLEL = 4

READERS = ["tf-data"]


def _write_shards(data_dir: Path, shards: int) -> dict[str, Path]:
    import numpy as np
    import tensorflow as tf
    folder = data_dir / f"tfrecords-{shards}x{RECORDS}"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for s in range(shards):
        path = folder / f"shard-{s:03d}.tfrecord"
        files[f"tfrecords/shard-{s:03d}.tfrecord"] = path
        if path.exists():
            continue
        rng = np.random.default_rng(s)
        tmp = path.with_suffix(".tmp")
        with tf.io.TFRecordWriter(str(tmp)) as w:
            for i in range(RECORDS):
                ex = tf.train.Example(features=tf.train.Features(feature={
                    "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 10])),
                    "payload": tf.train.Feature(bytes_list=tf.train.BytesList(value=[rng.bytes(PAYLOAD)])),
                }))
                w.write(ex.SerializeToString())
        tmp.rename(path)
    return files


class RangedObject:
    """An object read front to back in ranged GETs of CHUNK bytes, one at a time."""

    def __init__(self, client, bucket: str, key: str):
        self.client, self.bucket, self.key = client, bucket, key
        self.buf = bytearray()
        self.off = 0
        self.fetched = 0
        self.size = None

    def _fill(self) -> None:
        r = self.client.get_object(Bucket=self.bucket, Key=self.key,
                                   Range=f"bytes={self.fetched}-{self.fetched + CHUNK - 1}")
        body = r["Body"].read()
        self.size = int(r["ContentRange"].rsplit("/", 1)[1])
        del self.buf[:self.off]
        self.off = 0
        self.buf += body
        self.fetched += len(body)

    def read(self, n: int) -> bytes:
        while len(self.buf) - self.off < n and (self.size is None or self.fetched < self.size):
            self._fill()
        out = bytes(self.buf[self.off:self.off + n])
        self.off += len(out)
        return out


def _records(obj: RangedObject):
    while True:
        header = obj.read(12)
        if not header:
            return
        (length,) = struct.unpack("<Q", header[:8])
        data = obj.read(length)
        if len(data) != length or len(obj.read(4)) != 4:
            raise IOError(f"{obj.key}: truncated record")
        yield data


class Group:
    def __init__(self, targets, data_dir: Path, scale: float):
        self.targets = {t["name"]: t for t in targets}
        self.data_dir = data_dir
        self.shards = max(2, int(SHARDS * scale))

    def prepare(self):
        self.files = _write_shards(self.data_dir, self.shards)
        ds_.upload(self.targets.values(), self.files)
        return {"tf-data": {"unit": "records", "ranges": ds_.whole(self.files)}}

    def run(self, reader: str, target: str) -> int:
        import tensorflow as tf
        t = self.targets[target]
        spec = {"label": tf.io.FixedLenFeature([], tf.int64), "payload": tf.io.FixedLenFeature([], tf.string)}

        def shard(key):
            def gen(k):
                yield from _records(RangedObject(ds_.client(t), t["bucket"], k.decode()))
            return tf.data.Dataset.from_generator(gen, args=(key,), output_signature=tf.TensorSpec((), tf.string))

        pipeline = (tf.data.Dataset.from_tensor_slices(sorted(self.files))
                    .interleave(shard, cycle_length=PARALLEL, num_parallel_calls=PARALLEL)
                    .map(lambda r: tf.io.parse_single_example(r, spec), num_parallel_calls=tf.data.AUTOTUNE)
                    .prefetch(tf.data.AUTOTUNE))
        records = 0
        for ex in pipeline:
            if len(ex["payload"].numpy()) != PAYLOAD:
                raise AssertionError("tf-data: a payload of the wrong size")
            records += 1
        if records != self.shards * RECORDS:
            raise AssertionError(f"tf-data: {records} records, expected {self.shards * RECORDS}")
        return records

    def close(self):
        pass
