"""PyTorch readers through s3torchconnector (AWS CRT): a map-style and an iterable dataset over 512 samples of
1 MiB (one GET each), and an iterable dataset over 8 shards of 64 MiB read whole (the CRT splits each into
8 MiB ranged GETs). DataLoader with 2 workers; each worker reads the bytes and hands back their length (a
training loop would decode them there), so what is measured is the loader's reading, not pickling."""
import os
from pathlib import Path

import datasets as ds_

WORKERS = 2
SAMPLES, SAMPLE_SIZE = 512, 1 << 20
SHARDS, SHARD_SIZE = 8, 64 << 20

READERS = ["torch-map", "torch-iterable", "torch-shards"]


def _length(reader) -> int:
    return len(reader.read())


class Group:
    def __init__(self, targets, data_dir: Path, scale: float):
        self.targets = {t["name"]: t for t in targets}
        self.data_dir = data_dir
        self.samples = max(8, int(SAMPLES * scale))
        self.shards = max(2, int(SHARDS * scale))

    def prepare(self):
        samples = ds_.blobs(self.data_dir, "samples", self.samples, SAMPLE_SIZE)
        shards = ds_.blobs(self.data_dir, "shards", self.shards, SHARD_SIZE)
        ds_.upload(self.targets.values(), {**samples, **shards})
        return {
            "torch-map": {"unit": "samples", "ranges": ds_.whole(samples)},
            "torch-iterable": {"unit": "samples", "ranges": ds_.whole(samples)},
            "torch-shards": {"unit": "shards", "ranges": ds_.whole(shards)},
        }

    def run(self, reader: str, target: str) -> int:
        from s3torchconnector import S3ClientConfig, S3IterableDataset, S3MapDataset
        from torch.utils.data import DataLoader
        t = self.targets[target]
        # The CRT takes credentials from the environment; the DataLoader's workers inherit it.
        os.environ.update(AWS_ACCESS_KEY_ID=t["access_key"], AWS_SECRET_ACCESS_KEY=t["secret_key"],
                          AWS_EC2_METADATA_DISABLED="true")
        common = {"region": t["region"], "endpoint": t["endpoint"],
                  "s3client_config": S3ClientConfig(force_path_style=True), "transform": _length}
        prefix = f"s3://{t['bucket']}/{'shards' if reader == 'torch-shards' else 'samples'}/"
        if reader == "torch-map":
            data = S3MapDataset.from_prefix(prefix, **common)
            loader = DataLoader(data, batch_size=16, shuffle=True, num_workers=WORKERS, collate_fn=list)
        else:
            data = S3IterableDataset.from_prefix(prefix, enable_sharding=True, **common)
            loader = DataLoader(data, batch_size=1 if reader == "torch-shards" else 16, num_workers=WORKERS,
                                collate_fn=list)
        items = 0
        size = SHARD_SIZE if reader == "torch-shards" else SAMPLE_SIZE
        for batch in loader:
            for n in batch:
                if n != size:
                    raise AssertionError(f"{reader}: an item of {n} bytes, expected {size}")
                items += 1
        want = self.shards if reader == "torch-shards" else self.samples
        if items != want:
            raise AssertionError(f"{reader}: {items} items, expected {want}")
        return items

    def close(self):
        pass
