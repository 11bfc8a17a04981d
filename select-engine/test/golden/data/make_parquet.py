"""Writes the Parquet files of the golden data sets (run from this folder with the venv of
test/formats/fixtures/requirements.txt):  /work/main/.venv/bin/python make_parquet.py

people.parquet: the Parquet twin of people.jsonl.
timestamps.parquet: timestamps at and past the ends of Ion's years 0001 to 9999, which a Parquet INT64 holds
(Python's datetime does not reach them, so the values are written as epoch milliseconds)."""
import json

import pyarrow as pa
import pyarrow.parquet as pq

schema = pa.schema([("id", pa.int64()), ("name", pa.string()), ("age", pa.int64()), ("city", pa.string()),
                    ("joined", pa.string()), ("score", pa.float64())])
rows = [json.loads(line) for line in open("people.jsonl")]
pq.write_table(pa.Table.from_pylist(rows, schema=schema), "people.parquet", row_group_size=2)

DAY = 86_400_000
YEAR0 = -719_528 * DAY  # 0000-01-01T00:00:00Z (proleptic Gregorian; year 0 is 1 BC, a leap year)
MS = [
    YEAR0 - 1,  # -0001-12-31T23:59:59.999Z
    YEAR0,  # 0000-01-01T00:00:00.000Z
    YEAR0 + 59 * DAY + DAY // 2,  # 0000-02-29T12:00:00.000Z
    -1,  # 1969-12-31T23:59:59.999Z
    253_402_300_799_999,  # 9999-12-31T23:59:59.999Z
    253_402_300_800_000,  # 10000-01-01T00:00:00.000Z
]
pq.write_table(pa.table({
    "id": pa.array(range(len(MS)), pa.int64()),
    "ts": pa.array(MS, pa.timestamp("ms", tz="UTC")),
    "us": pa.array([ms * 1000 + 7 for ms in MS], pa.timestamp("us")),
    "st": pa.array([{"at": ms} for ms in MS], pa.struct([("at", pa.timestamp("ms", tz="UTC"))])),
}), "timestamps.parquet")
