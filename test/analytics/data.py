"""Deterministic tables the analytics suites write through each client and check row for row."""
import numpy as np
import pyarrow as pa

REGIONS = ["eu", "us", "apac", "latam"]
DAYS = ["2026-11-01", "2026-11-02", "2026-11-03"]


def sales(rows: int = 3000, seed: int = 7) -> pa.Table:
    """Sales rows: id (unique), region and day (partition keys), amount, qty, and a non-ASCII note."""
    rng = np.random.default_rng(seed)
    ids = np.arange(rows, dtype=np.int64)
    return pa.table({
        "id": ids,
        "region": pa.array([REGIONS[i] for i in rng.integers(0, len(REGIONS), rows)]),
        "day": pa.array([DAYS[i] for i in rng.integers(0, len(DAYS), rows)]),
        "amount": pa.array(np.round(rng.uniform(0, 100, rows), 2)),
        "qty": pa.array(rng.integers(1, 20, rows).astype(np.int32)),
        "note": pa.array([f"ligne {i} — ü" if i % 7 == 0 else f"row {i}" for i in ids]),
    })


def random_bytes(size: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
