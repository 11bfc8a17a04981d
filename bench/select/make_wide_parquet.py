"""Writes the side-by-side benchmark's Parquet file: 20 columns (id sorted, 9 numbers, 10 strings) in 20 row
groups, SNAPPY, so that a query on id reading one column touches 1 of 20 columns in 1 of 20 row groups.
Values are computed from the row number (hash-like, so they compress as real data does rather than to nothing).

usage: python make_wide_parquet.py ROWS OUT
"""
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

rows, out = int(sys.argv[1]), sys.argv[2]
GROUP = rows // 20
fields = [("id", pa.int64())]
fields += [(f"n{k}", pa.int64() if k % 2 == 0 else pa.float64()) for k in range(1, 10)]
fields += [(f"s{k}", pa.string()) for k in range(10, 20)]
schema = pa.schema(fields)


def mix(ids, k):
    """A number in [0, 1e9) that looks random, from the row number and the column."""
    x = pc.multiply(pc.add(ids, k * 1_000_003), 2_654_435_761)
    return pc.subtract(x, pc.multiply(pc.divide(x, 1_000_000_007), 1_000_000_007))


with pq.ParquetWriter(out, schema, compression="SNAPPY") as w:
    for start in range(0, rows, GROUP):
        ids = pa.array(range(start, min(rows, start + GROUP)), pa.int64())
        cols = {"id": ids}
        for k in range(1, 10):
            v = mix(ids, k)
            cols[f"n{k}"] = v if k % 2 == 0 else pc.divide(pc.cast(v, pa.float64()), 1000.0)
        for k in range(10, 20):
            cols[f"s{k}"] = pc.binary_join_element_wise("v", pc.cast(mix(ids, k), pa.string()), "-")
        w.write_table(pa.table(cols, schema=schema), row_group_size=GROUP)
