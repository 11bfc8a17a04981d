"""Writes the select benchmark's Parquet file: the rows of data.ts, sorted by id, in row groups of
256 Ki rows (so a range predicate on id can skip most of them), SNAPPY, pyarrow's defaults otherwise.

usage: python make_parquet.py ROWS OUT
"""
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

rows, out = int(sys.argv[1]), sys.argv[2]
BATCH = 1 << 20
schema = pa.schema([("id", pa.int64()), ("user", pa.string()), ("amount", pa.int64()), ("color", pa.string()),
                    ("ts", pa.timestamp("ms", tz="UTC")), ("text", pa.string())])
colors = pa.array(["red", "green", "blue", "black"])
users = pa.array([f"user{u}" for u in range(997)])
with pq.ParquetWriter(out, schema, compression="SNAPPY") as w:
    for start in range(0, rows, BATCH):
        ids = pa.array(range(start, min(rows, start + BATCH)), pa.int64())
        amount = pc.bit_wise_and(pc.multiply(ids, 7919), 0x7FFFFFFFFFFFFFFF)
        amount = pc.subtract(amount, pc.multiply(pc.divide(amount, 100000), 100000))
        t = pa.table({
            "id": ids,
            "user": pc.take(users, pc.cast(pc.subtract(ids, pc.multiply(pc.divide(ids, 997), 997)), pa.int32())),
            "amount": amount,
            "color": pc.take(colors, pc.cast(pc.bit_wise_and(ids, 3), pa.int32())),
            "ts": pc.cast(pc.add(pc.multiply(ids, 1000), 1704067200000), pa.timestamp("ms", tz="UTC")),
            "text": pc.binary_join_element_wise("free text number", pc.cast(ids, pa.string()), " "),
        }, schema=schema)
        w.write_table(t, row_group_size=256 * 1024)
