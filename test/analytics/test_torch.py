"""PyTorch through s3torchconnector (AWS CRT client, path style) against Cairn: map-style and iterable
datasets over many objects, a large object read in 8 MiB ranged parts, and checkpoint save and load (a
multipart upload from the CRT). The heavy group: torch is imported inside the tests so that the default
group, which deselects the `torch` marker, need not have it installed."""
import io

import pytest

from data import random_bytes

pytestmark = pytest.mark.torch

PREFIX = "train/"
COUNT = 120


@pytest.fixture
def crt_env(cairn, monkeypatch):
    # The CRT takes credentials from the usual chain; the environment comes first.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", cairn.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", cairn.secret_key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    from s3torchconnector import S3ClientConfig
    return {"region": cairn.region, "endpoint": cairn.endpoint,
            "s3client_config": S3ClientConfig(force_path_style=True)}


@pytest.fixture
def samples(s3, bucket):
    """COUNT objects of 1..40 KiB under train/ (listing order = key order), and one outside the prefix."""
    objects = {}
    for i in range(COUNT):
        key = f"{PREFIX}sample-{i:05d}.bin"
        objects[key] = random_bytes(1024 * (1 + i % 40) + i, seed=100 + i)
        s3.put_object(Bucket=bucket, Key=key, Body=objects[key])
    s3.put_object(Bucket=bucket, Key="other/ignored.bin", Body=b"not a sample")
    return objects


def _key_and_bytes(reader):
    return reader.key, reader.read()


def test_map_dataset(bucket, samples, crt_env):
    from s3torchconnector import S3MapDataset
    from torch.utils.data import DataLoader

    ds = S3MapDataset.from_prefix(f"s3://{bucket}/{PREFIX}", transform=_key_and_bytes, **crt_env)
    assert len(ds) == COUNT
    keys = sorted(samples)
    assert ds[0] == (keys[0], samples[keys[0]])
    assert ds[COUNT - 1] == (keys[-1], samples[keys[-1]])
    assert ds[57] == (keys[57], samples[keys[57]])

    # A DataLoader in random order with a collate that keeps bytes: every object exactly once.
    loader = DataLoader(ds, batch_size=16, shuffle=True, collate_fn=list)
    seen = {}
    for batch in loader:
        for key, data in batch:
            seen[key] = data
    assert seen == samples


def test_iterable_dataset(bucket, samples, crt_env):
    import torch
    from s3torchconnector import S3IterableDataset
    from torch.utils.data import DataLoader

    def to_tensor(reader):
        return reader.key, torch.frombuffer(bytearray(reader.read()), dtype=torch.uint8)

    ds = S3IterableDataset.from_prefix(f"s3://{bucket}/{PREFIX}", transform=to_tensor, **crt_env)
    got = {key: t for key, t in ds}
    assert sorted(got) == sorted(samples)
    for key, t in got.items():
        assert t.numel() == len(samples[key]) and bytes(t.numpy()) == samples[key]

    # Through a DataLoader: the per-object sizes add up.
    sizes = DataLoader(S3IterableDataset.from_prefix(f"s3://{bucket}/{PREFIX}",
                                                     transform=lambda r: len(r.read()), **crt_env),
                       batch_size=32)
    assert int(sum(b.sum() for b in sizes)) == sum(len(v) for v in samples.values())


def test_large_object_ranged_reads(s3, bucket, crt_env):
    from s3torchconnector import S3MapDataset
    # 20 MiB + 5: the CRT fetches it as 8 MiB ranged GETs; seek and read across part boundaries.
    blob = random_bytes(20 * 1024 * 1024 + 5, seed=9)
    s3.put_object(Bucket=bucket, Key="big/blob.bin", Body=blob)

    def probe(reader):
        parts = [reader.read(10)]
        reader.seek(8 * 1024 * 1024 - 3)
        parts.append(reader.read(6))
        reader.seek(len(blob) - 4)
        parts.append(reader.read(100))
        reader.seek(0)
        parts.append(reader.read())
        return parts

    ds = S3MapDataset.from_prefix(f"s3://{bucket}/big/", transform=probe, **crt_env)
    head, across, tail, whole = ds[0]
    assert head == blob[:10]
    assert across == blob[8 * 1024 * 1024 - 3:8 * 1024 * 1024 + 3]
    assert tail == blob[-4:]
    assert whole == blob


def test_checkpoint_save_and_load(s3, bucket, crt_env):
    import torch
    from s3torchconnector import S3Checkpoint

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1024, 2560), torch.nn.ReLU(), torch.nn.Linear(2560, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}

    checkpoint = S3Checkpoint(**crt_env)
    uri = f"s3://{bucket}/checkpoints/epoch-3.pt"
    with checkpoint.writer(uri) as writer:  # over 8 MiB: a multipart upload from the CRT
        torch.save(state, writer)

    local = io.BytesIO()
    torch.save(state, local)
    head = s3.head_object(Bucket=bucket, Key="checkpoints/epoch-3.pt")
    assert head["ContentLength"] == len(local.getvalue()) > 8 * 1024 * 1024

    with checkpoint.reader(uri) as reader:
        loaded = torch.load(reader, weights_only=True)
    assert loaded["epoch"] == 3
    for name, tensor in state["model"].items():
        assert torch.equal(loaded["model"][name], tensor), name
    fresh = torch.nn.Sequential(torch.nn.Linear(1024, 2560), torch.nn.ReLU(), torch.nn.Linear(2560, 10))
    fresh.load_state_dict(loaded["model"])
    x = torch.randn(4, 1024)
    assert torch.equal(fresh(x), model(x))
