"""TensorFlow against Cairn: TFRecord shards written with tf.io.TFRecordWriter and uploaded with boto3, then
streamed back by a tf.data pipeline. tensorflow-io's S3 filesystem stops at TF 2.17, so the pipeline reads
through tf.data.Dataset.from_generator over boto3 ranged GETs, the way current TensorFlow users do. The reader
never asks for an object's size: its last request runs past the end and S3 serves what exists (206 with the
clamped Content-Range). The heavy group: tensorflow is imported inside the tests so that the default group,
which deselects the `tensorflow` marker, need not have it installed."""
import struct

import numpy as np
import pytest

from data import random_bytes

pytestmark = pytest.mark.tensorflow

SHARDS = 4
PER_SHARD = 150
VEC = 8


def _records(shard: int, count: int = PER_SHARD):
    """Deterministic rows: id, label, a 0..16 KiB payload (so records span ranged reads), a float vector and
    0..3 string tags (a variable-length feature)."""
    rng = np.random.default_rng(1000 + shard)
    rows = []
    for i in range(count):
        rid = shard * 100_000 + i
        rows.append({"id": rid, "label": int(rng.integers(0, 2)),
                     "payload": random_bytes(int(rng.integers(0, 16 * 1024)), seed=rid),
                     "vec": rng.standard_normal(VEC).astype(np.float32),
                     "tags": [f"t{j}-é".encode() for j in range(int(rng.integers(0, 4)))]})
    return rows


def _example(row):
    import tensorflow as tf
    feature = {
        "id": tf.train.Feature(int64_list=tf.train.Int64List(value=[row["id"]])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[row["label"]])),
        "payload": tf.train.Feature(bytes_list=tf.train.BytesList(value=[row["payload"]])),
        "vec": tf.train.Feature(float_list=tf.train.FloatList(value=row["vec"].tolist())),
        "tags": tf.train.Feature(bytes_list=tf.train.BytesList(value=row["tags"])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _parse(serialized):
    import tensorflow as tf
    spec = {"id": tf.io.FixedLenFeature([], tf.int64), "label": tf.io.FixedLenFeature([], tf.int64),
            "payload": tf.io.FixedLenFeature([], tf.string), "vec": tf.io.FixedLenFeature([VEC], tf.float32),
            "tags": tf.io.VarLenFeature(tf.string)}
    parsed = tf.io.parse_single_example(serialized, spec)
    parsed["tags"] = tf.sparse.to_dense(parsed["tags"])
    return parsed


class RangedObject:
    """Sequential reads of one object through ranged GETs of `chunk` bytes each."""

    def __init__(self, client, bucket, key, chunk):
        self.client, self.bucket, self.key, self.chunk = client, bucket, key, chunk
        self.size = None      # learnt from the first Content-Range
        self.fetched = 0      # object bytes fetched so far
        self.buf, self.off = b"", 0
        self.requests = 0

    def _fill(self):
        start = self.fetched
        resp = self.client.get_object(Bucket=self.bucket, Key=self.key,
                                      Range=f"bytes={start}-{start + self.chunk - 1}")
        self.requests += 1
        body = resp["Body"].read()
        self.size = int(resp["ContentRange"].rsplit("/", 1)[1])
        # S3 clamps a range that runs past the end; the header says exactly what was served.
        want = min(self.chunk, self.size - start)
        if len(body) != want or resp["ContentRange"] != f"bytes {start}-{start + want - 1}/{self.size}":
            raise IOError(f"{self.key}: asked {start}+{self.chunk}, got {len(body)} bytes, "
                          f"Content-Range {resp['ContentRange']}")
        self.buf, self.off = self.buf[self.off:] + body, 0
        self.fetched += len(body)

    def read(self, n):
        """Up to n bytes; fewer only at the end of the object. Never requests a range starting at the end."""
        while len(self.buf) - self.off < n and (self.size is None or self.fetched < self.size):
            self._fill()
        out = self.buf[self.off:self.off + n]
        self.off += len(out)
        return out


def tfrecords(obj: RangedObject):
    """The TFRecord framing: u64 length, u32 masked CRC32C of the length, data, u32 masked CRC32C of the
    data (little-endian). The CRCs are not recomputed here: every record is compared with what was written."""
    while True:
        header = obj.read(12)
        if not header:
            return
        if len(header) < 12:
            raise IOError(f"{obj.key}: truncated record header")
        (length,) = struct.unpack("<Q", header[:8])
        data = obj.read(length)
        if len(data) != length or len(obj.read(4)) != 4:
            raise IOError(f"{obj.key}: truncated record")
        yield data


def raw_stream(client, bucket, keys, chunk, parallel=2):
    """A tf.data pipeline of raw records: shard keys, each read by a generator, interleaved."""
    import tensorflow as tf

    def records_of(key):
        yield from tfrecords(RangedObject(client, bucket, key.decode(), chunk))

    def shard(key):
        return tf.data.Dataset.from_generator(records_of, args=(key,),
                                              output_signature=tf.TensorSpec((), tf.string))

    return tf.data.Dataset.from_tensor_slices(keys).interleave(
        shard, cycle_length=parallel, num_parallel_calls=parallel, deterministic=True)


def stream(client, bucket, keys, chunk, parallel=2):
    """Parsed examples, prefetched."""
    import tensorflow as tf
    return (raw_stream(client, bucket, keys, chunk, parallel)
            .map(_parse, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))


def _check(parsed, want):
    """Every record exactly once, every field exact."""
    seen = {}
    for ex in parsed:
        rid = int(ex["id"])
        assert rid not in seen, f"record {rid} twice"
        seen[rid] = ex
    assert sorted(seen) == sorted(want)
    for rid, ex in seen.items():
        row = want[rid]
        assert int(ex["label"]) == row["label"]
        assert ex["payload"].numpy() == row["payload"]
        assert np.array_equal(ex["vec"].numpy(), row["vec"])
        assert ex["tags"].numpy().tolist() == row["tags"]


@pytest.fixture
def write_shards(bucket, tmp_path):
    """Writes shards locally with tf.io.TFRecordWriter and uploads them with the given boto3 client; returns
    (keys, {id: row}, [local paths])."""
    import tensorflow as tf

    def write(client, shards=SHARDS, per_shard=PER_SHARD, prefix="tfrecords/"):
        keys, rows, paths = [], {}, []
        for s in range(shards):
            path = tmp_path / f"train-{s:05d}-of-{shards:05d}.tfrecord"
            with tf.io.TFRecordWriter(str(path)) as writer:
                for row in _records(s, per_shard):
                    writer.write(_example(row))
                    rows[row["id"]] = row
            key = prefix + path.name
            client.upload_file(str(path), bucket, key)
            keys.append(key)
            paths.append(path)
        return keys, rows, paths
    return write


@pytest.mark.parametrize("checksums,chunk", [("defaults", 16_000), ("when_required", 1 << 20)],
                         ids=["defaults-16000B-reads", "when_required-1MiB-reads"])
def test_tf_data_streams_tfrecord_shards(cairn, s3, bucket, write_shards, checksums, chunk):
    """Uploads at boto3's defaults (CRC trailers) and with checksums only when required; reads in chunks of
    16000 bytes (payloads are up to 16 KiB, so many records span two GETs) and of 1 MiB (each shard is about
    1.2 MB: two GETs, the second past the end)."""
    import tensorflow as tf

    uploader = cairn.client() if checksums == "defaults" else cairn.client(
        request_checksum_calculation="when_required", response_checksum_validation="when_required")
    keys, rows, paths = write_shards(uploader)
    for key, path in zip(keys, paths):  # stored byte for byte
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == path.read_bytes()

    _check(stream(s3, bucket, keys, chunk), rows)

    # In shard order, the raw records from Cairn are the records TensorFlow's own reader finds in the files.
    ours = list(raw_stream(s3, bucket, keys, chunk, parallel=1).as_numpy_iterator())
    theirs = list(tf.data.TFRecordDataset([str(p) for p in paths]).as_numpy_iterator())
    assert len(ours) == SHARDS * PER_SHARD and ours == theirs


def test_small_object_read_past_its_end(s3, bucket, write_shards):
    """A one-record shard far smaller than the reader's 1 MiB chunk: the single GET asks for bytes past the
    end, S3 clamps it (206, Content-Range bytes 0-(size-1)/size) and the record parses."""
    keys, rows, paths = write_shards(s3, shards=1, per_shard=1, prefix="tiny/")
    size = paths[0].stat().st_size
    assert size < 20 * 1024
    obj = RangedObject(s3, bucket, keys[0], 1 << 20)
    assert list(tfrecords(obj)) == [paths[0].read_bytes()[12:-4]]
    assert obj.requests == 1 and obj.size == size

    resp = s3.get_object(Bucket=bucket, Key=keys[0], Range=f"bytes={size - 10}-{size + 4096}")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert resp["ContentRange"] == f"bytes {size - 10}-{size - 1}/{size}"
    assert resp["Body"].read() == paths[0].read_bytes()[-10:]
    # A range that starts at the end is unsatisfiable: the reader above never sends one.
    with pytest.raises(s3.exceptions.ClientError) as err:
        s3.get_object(Bucket=bucket, Key=keys[0], Range=f"bytes={size}-{size + 100}")
    assert err.value.response["Error"]["Code"] == "InvalidRange"

    _check(stream(s3, bucket, keys, 1 << 20), rows)


def test_shuffled_epochs_and_keras_fit(s3, bucket, write_shards):
    """Two shuffled epochs see every record twice; a small Keras model trains on batches streamed from Cairn."""
    import tensorflow as tf
    import keras

    keys, rows, _ = write_shards(s3, shards=3, per_shard=60)
    ids = list(stream(s3, bucket, keys, 64 * 1024).map(lambda ex: ex["id"])
               .shuffle(100, seed=3).repeat(2).as_numpy_iterator())
    assert sorted(ids) == sorted(list(rows) * 2)
    assert ids[:len(rows)] != sorted(rows)  # shuffled

    # The stream's length is unknown to tf.data; stating it lets Keras plan its epochs (and checks it).
    batches = (stream(s3, bucket, keys, 64 * 1024).map(lambda ex: (ex["vec"], ex["label"])).batch(32)
               .apply(tf.data.experimental.assert_cardinality(-(-len(rows) // 32))).prefetch(tf.data.AUTOTUNE))
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((VEC,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(batches, epochs=2, shuffle=False, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 2 and all(np.isfinite(losses))
