"""PrestoDB 0.287 (the server tarball from Maven Central) with a Hive catalog on Cairn and S3 Select pushdown
on: a filter on a CSV table goes to Cairn as SelectObjectContent (one request per object, the WHERE clause
Presto built inside it, uncompressed, GZIP and BZIP2 objects, ScanRange splits of one object) and the rows
are exactly those Python computes, and the same as with pushdown off (plain GETs). Presto also writes
Parquet and gzipped text tables onto Cairn and reads them back. Cairn's log shows each Select request (the
server logs the operation and its SQL). The heavy group: run by `bash scripts/test-analytics.sh --presto`,
which installs the server (scripts/install-presto.sh) and names it in PRESTO_HOME."""
import bz2
import gzip
import json
import os
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

import presto as presto_server
from data import sales

pytestmark = pytest.mark.presto

COLUMNS = [("id", "bigint"), ("region", "string"), ("day", "date"), ("amount", "decimal(10,2)"),
           ("qty", "int"), ("note", "string")]
OFF = {"hive.s3_select_pushdown_enabled": "false"}


@pytest.fixture(scope="module")
def presto(cairn, tmp_path_factory):
    home = os.environ.get("PRESTO_HOME")
    if not home:
        pytest.fail("PRESTO_HOME is not set: run `bash scripts/test-analytics.sh --presto`, which installs Presto")
    proc, server = presto_server.start(Path(home), tmp_path_factory.mktemp("presto"), cairn)
    server.query("CREATE SCHEMA hive.cairn")
    yield server
    presto_server.stop(proc)


def rows_of(rows: int, seed: int) -> list[tuple]:
    """sales() rows as Presto returns them: dates and decimals as text, amount with two decimals."""
    return [(r["id"], r["region"], r["day"], f"{r['amount']:.2f}", r["qty"], r["note"])
            for r in sales(rows=rows, seed=seed).to_pylist()]


def csv_lines(rows: list[tuple]) -> bytes:
    return "".join(",".join(str(v) for v in r) + "\n" for r in rows).encode()


class CairnLog:
    """Cairn's request log from a point on: the `select` line each SelectObjectContent writes, joined with the
    status its request completed with."""

    def __init__(self, path: Path):
        self.path = path
        self.start = path.stat().st_size

    def _entries(self) -> list[dict]:
        with open(self.path, "rb") as f:
            f.seek(self.start)
            return [json.loads(line) for line in f.read().splitlines() if line.startswith(b"{")]

    def selects(self, bucket: str, want: int = 0, wait: float = 5) -> list[dict]:
        """The Select requests on `bucket`, each with its `status`; waits up to `wait` s for `want` of them
        to have completed (pino writes its lines asynchronously)."""
        deadline = time.time() + wait
        while True:
            entries = self._entries()
            status = {e["reqId"]: e["res"]["statusCode"] for e in entries if e.get("msg") == "request completed"}
            found = [dict(e, status=status.get(e["reqId"])) for e in entries
                     if e.get("msg") == "select" and e.get("bucket") == bucket]
            if time.time() > deadline or (len(found) >= want and all(f["status"] for f in found)):
                return found
            time.sleep(0.2)


def test_filter_pushed_down_as_select(cairn, presto, s3, bucket):
    rows = rows_of(3000, seed=21)
    third = len(rows) // 3
    s3.put_object(Bucket=bucket, Key="sales/part-0.csv", Body=csv_lines(rows[:third]))
    s3.put_object(Bucket=bucket, Key="sales/part-1.csv.gz", Body=gzip.compress(csv_lines(rows[third:2 * third])))
    s3.put_object(Bucket=bucket, Key="sales/part-2.csv.bz2", Body=bz2.compress(csv_lines(rows[2 * third:])))
    table = presto.register_table("cairn", f"sales_{bucket[3:]}", COLUMNS, f"s3a://{bucket}/sales")

    detail = f"SELECT id, region, day, amount, qty, note FROM {table} WHERE region = 'eu' AND qty >= 15 ORDER BY id"
    want_detail = [list(r) for r in rows if r[1] == "eu" and r[4] >= 15]
    summary = (f"SELECT region, count(*), sum(qty), sum(amount) FROM {table} "
               f"WHERE day IN (DATE '2026-11-01', DATE '2026-11-03') AND amount > 50.00 GROUP BY region ORDER BY region")
    groups: dict[str, list] = {}
    for r in rows:
        if r[2] in ("2026-11-01", "2026-11-03") and Decimal(r[3]) > 50:
            g = groups.setdefault(r[1], [r[1], 0, 0, Decimal(0)])
            g[1], g[2], g[3] = g[1] + 1, g[2] + r[4], g[3] + Decimal(r[3])
    want_summary = [[g[0], g[1], g[2], str(g[3])] for _, g in sorted(groups.items())]
    assert len(want_detail) > 20 and len(want_summary) == 4

    log = CairnLog(cairn.log)
    assert presto.query(detail) == want_detail
    selects = log.selects(bucket, want=3)
    # One Select per object, each carrying both conjuncts of the filter (Presto casts a number column with a
    # CASE that maps the empty field to null), with the object's own compression.
    assert sorted((s["key"], s["compression"]) for s in selects) == [
        ("sales/part-0.csv", "NONE"), ("sales/part-1.csv.gz", "GZIP"), ("sales/part-2.csv.bz2", "BZIP2")], selects
    for s in selects:
        assert s["status"] == 200 and s["input"] == "CSV" and "scanRange" not in s, s
        assert s["expression"].startswith("SELECT s._1, s._2, s._3, s._4, s._5, s._6 FROM S3Object s WHERE "), s
        assert "(s._2 = 'eu')" in s["expression"], s
        assert "(case s._5 when '' then null else CAST(s._5 AS INT) end >= 15)" in s["expression"], s

    log = CairnLog(cairn.log)
    assert presto.query(summary) == want_summary
    selects = log.selects(bucket, want=3)
    assert len(selects) == 3 and all(s["status"] == 200 for s in selects), selects
    for s in selects:
        assert "CAST(s._3 AS TIMESTAMP) end IN (`2026-11-01`,`2026-11-03`)" in s["expression"], s
        assert "CAST(s._4 AS DECIMAL(10,2)) end > 50.00" in s["expression"], s

    # A count sends no columns at all: S3 Select answers a blank field per matching record.
    log = CairnLog(cairn.log)
    assert presto.query(f"SELECT count(*) FROM {table}") == [[len(rows)]]
    assert {s["expression"] for s in log.selects(bucket, want=3)} == {"SELECT ' ' FROM S3Object s"}

    # The same queries with pushdown off read the objects with GET and filter in Presto: same rows, no Select.
    log = CairnLog(cairn.log)
    assert presto.query(detail, **OFF) == want_detail
    assert presto.query(summary, **OFF) == want_summary
    assert log.selects(bucket, wait=1) == []


def test_scan_ranges_split_one_object(cairn, presto, s3, bucket):
    """An object of several splits (1 MB each, see presto.py) is read as one Select per split, each with a
    ScanRange: every record is returned by exactly the one range it starts in."""
    rows = rows_of(60000, seed=4)
    body = csv_lines(rows)
    assert len(body) > 2 * 1024 * 1024
    s3.put_object(Bucket=bucket, Key="big/part-0.csv", Body=body)
    table = presto.register_table("cairn", f"big_{bucket[3:]}", COLUMNS, f"s3a://{bucket}/big")

    log = CairnLog(cairn.log)
    got = presto.query(f"SELECT id, note FROM {table} WHERE qty = 7 OR region = 'latam'")
    want = [[r[0], r[5]] for r in rows if r[4] == 7 or r[1] == "latam"]
    assert sorted(got) == want
    ranges = sorted((s["scanRange"]["start"], s["scanRange"]["end"]) for s in log.selects(bucket, want=3))
    assert len(ranges) >= 3 and ranges[0][0] == 0 and ranges[-1][1] == len(body), ranges
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:])), ranges   # contiguous, no overlap
    assert presto.query(f"SELECT count(*), sum(id) FROM {table}") == [[len(rows), sum(r[0] for r in rows)]]


@pytest.mark.parametrize("format", ["PARQUET", "TEXTFILE"])
def test_presto_writes_table_on_cairn(cairn, presto, s3, bucket, arrow_fs, format):
    """INSERT INTO an external table on Cairn (Presto stages each file locally, then PUTs it or uploads it in
    parts), read back through Presto and, for Parquet, by pyarrow straight from Cairn."""
    rows = rows_of(2000, seed=8)
    s3.put_object(Bucket=bucket, Key="src/part-0.csv", Body=csv_lines(rows))
    name = bucket[3:]
    source = presto.register_table("cairn", f"src_{name}", COLUMNS, f"s3a://{bucket}/src")
    s3.put_object(Bucket=bucket, Key="out/", Body=b"")   # the table's folder, as Hive's DDL makes it
    target = presto.register_table("cairn", f"out_{format.lower()}_{name}", COLUMNS, f"s3a://{bucket}/out",
                                   format=format)

    assert presto.query(f"INSERT INTO {target} SELECT * FROM {source} WHERE region <> 'us'") == [
        [sum(1 for r in rows if r[1] != "us")]]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="out/").get("Contents", []) if o["Key"] != "out/"]
    assert keys, "Presto wrote no file"
    want = [list(r) for r in rows if r[1] != "us"]

    assert presto.query(f"SELECT * FROM {target} ORDER BY id") == want
    log = CairnLog(cairn.log)
    assert presto.query(f"SELECT count(*) FROM {target} WHERE qty BETWEEN 3 AND 5") == [
        [sum(1 for r in want if 3 <= r[4] <= 5)]]
    selects = log.selects(bucket, want=len(keys) if format == "TEXTFILE" else 0, wait=2)
    if format == "TEXTFILE":
        # Presto writes gzipped text (hive.compression-codec defaults to GZIP); a filter on it is pushed down.
        assert all(k.endswith(".gz") for k in keys), keys
        assert sorted(s["key"] for s in selects) == sorted(keys)
        assert {s["compression"] for s in selects} == {"GZIP"} and {s["status"] for s in selects} == {200}
        assert all("CAST(s._5 AS INT) end >= 3" in s["expression"] for s in selects), selects
    else:
        assert selects == []   # Presto pushes down text formats only
        import pyarrow.parquet as pq
        got = pq.read_table(f"{bucket}/out", filesystem=arrow_fs).sort_by("id").to_pylist()
        assert [[r["id"], r["region"], r["day"].isoformat(), f"{r['amount']:.2f}", r["qty"], r["note"]]
                for r in got] == want


def test_predicate_shapes_with_empty_fields(cairn, presto, s3, bucket):
    """The other shapes of SQL Presto sends, over fields left empty (NULL for Presto's number, boolean and date
    columns): NOT IN as ranges, IS NULL as `= ''`, BOOL and TIMESTAMP casts, tinyint, string ranges. Each
    returns what the same query returns with pushdown off; LIKE and an OR across columns are not pushed down
    (Presto reads the object, by GET or a Select without WHERE, and filters it itself). Left out: IS NOT NULL on a string
    column, which Presto turns into `<> ''` although Hive reads an empty string field as '' (not NULL): a
    Presto quirk that gives the same wrong rows against AWS."""
    lines = []
    for i in range(400):
        q = "" if i % 9 == 0 else str(i % 5)
        day = "" if i % 11 == 0 else f"2026-01-{1 + i % 28:02d}"
        lines.append(f"{i},{q},{['true', 'false', ''][i % 3]},{['ann', 'bob', 'cé', 'dan'][i % 4]},{i % 100},{day}")
    s3.put_object(Bucket=bucket, Key="shapes/a.csv", Body=("\n".join(lines) + "\n").encode())
    table = presto.register_table("cairn", f"shapes_{bucket[3:]}", [
        ("id", "bigint"), ("q", "int"), ("flag", "boolean"), ("name", "string"), ("small", "tinyint"),
        ("day", "date")], f"s3a://{bucket}/shapes")
    pushed = {
        "q NOT IN (1, 2)": "CAST(s._2 AS INT) end > 2)",
        "q IS NULL OR q = 3": "CAST(s._2 AS INT) end = 3 OR s._2 = '' )",
        "flag": "CAST(s._3 AS BOOL) end = true)",
        "flag IS NULL": "s._3 = ''",
        "name > 'b' AND name <= 'cz'": "((s._4 > 'b' AND s._4 <= 'cz'))",
        "name = 'cé'": "(s._4 = 'cé')",
        "small BETWEEN 10 AND 12 AND q IS NOT NULL": "CAST(s._5 AS INT) end <= 12))",
        "day < DATE '2026-01-05' OR day IS NULL": "CAST(s._6 AS TIMESTAMP) end < `2026-01-05`) OR s._6 = '' )",
    }
    for where in [*pushed, "name LIKE 'c%'", "q = 1 OR name = 'bob'"]:
        sql = f"SELECT id, q, flag, name, small, day FROM {table} WHERE {where} ORDER BY id"
        log = CairnLog(cairn.log)
        got = presto.query(sql)
        selects = log.selects(bucket, want=1)
        assert got and got == presto.query(sql, **OFF), where
        if where in pushed:
            assert len(selects) == 1 and selects[0]["status"] == 200, (where, selects)
            assert pushed[where] in selects[0]["expression"], (where, selects[0]["expression"])
        else:
            assert all(" WHERE " not in s["expression"] for s in selects), (where, selects)
    assert len(presto.query(f"SELECT id FROM {table} WHERE q IS NULL")) == sum(1 for i in range(400) if i % 9 == 0)
