"""Writes the Parquet twins of the golden data sets (run from this folder with the venv of
test/formats/fixtures/requirements.txt):  /work/main/.venv/bin/python make_parquet.py"""
import json

import pyarrow as pa
import pyarrow.parquet as pq

schema = pa.schema([("id", pa.int64()), ("name", pa.string()), ("age", pa.int64()), ("city", pa.string()),
                    ("joined", pa.string()), ("score", pa.float64())])
rows = [json.loads(line) for line in open("people.jsonl")]
pq.write_table(pa.Table.from_pylist(rows, schema=schema), "people.parquet", row_group_size=2)
