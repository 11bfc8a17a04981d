"""boto3 select_object_content against a running Cairn: the EventStream (Records, Progress, Stats, End) over
CSV, JSON and Parquet, and errors raised as AWS raises them (ClientError before the stream, EventStreamError
inside it).
"""
import gzip
import json
from pathlib import Path

import botocore
import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "select-engine" / "test" / "formats" / "fixtures"

PEOPLE = b"name,age,city\nann,31,Paris\nbob,25,Oslo\ncid,47,Paris\ndee,19,Rome\n"


def run(s3, bucket, key, sql, input_ser=None, output_ser=None, **extra):
    """Runs a query and returns (records text, Records payload bytes, stats, progress list, ended)."""
    res = s3.select_object_content(
        Bucket=bucket, Key=key, Expression=sql, ExpressionType="SQL",
        InputSerialization=input_ser or {"CSV": {"FileHeaderInfo": "USE"}},
        OutputSerialization=output_ser or {"CSV": {}}, **extra)
    records, stats, progress, ended = [], None, [], False
    for event in res["Payload"]:
        assert not ended, "event after End"
        if "Records" in event:
            records.append(event["Records"]["Payload"])
        elif "Stats" in event:
            stats = event["Stats"]["Details"]
        elif "Progress" in event:
            progress.append(event["Progress"]["Details"])
        elif "End" in event:
            ended = True
    payload = b"".join(records)
    # A successful stream ends as AWS ends it: Stats (counting every Records payload byte), then End.
    assert ended, "no End event"
    assert stats is not None and stats["BytesReturned"] == len(payload), stats
    return payload.decode(), len(payload), stats, progress, ended


def test_csv_filters_projection_aggregate_and_stats(s3, bucket):
    s3.put_object(Bucket=bucket, Key="people.csv", Body=PEOPLE)
    text, returned, stats, progress, ended = run(s3, bucket, "people.csv", "SELECT s.name, s.age FROM S3Object s WHERE s.city = 'Paris'")
    assert text == "ann,31\ncid,47\n"
    assert ended and progress == []
    assert stats == {"BytesScanned": len(PEOPLE), "BytesProcessed": len(PEOPLE), "BytesReturned": returned}
    text, *_ = run(s3, bucket, "people.csv", "SELECT COUNT(*), AVG(CAST(age AS INT)) FROM S3Object")
    assert text == "4,30.5\n"
    text, *_ = run(s3, bucket, "people.csv", "SELECT name FROM S3Object LIMIT 1", output_ser={"JSON": {}})
    assert text == '{"name":"ann"}\n'


def test_progress_and_gzip(s3, bucket):
    rows = "".join(f"{i},item-{i},{i % 10}\n" for i in range(5000)).encode()
    packed = gzip.compress(rows)
    s3.put_object(Bucket=bucket, Key="rows.csv.gz", Body=packed)
    text, returned, stats, progress, ended = run(
        s3, bucket, "rows.csv.gz", "SELECT _1 FROM S3Object WHERE _3 = '7' LIMIT 3",
        input_ser={"CSV": {"FileHeaderInfo": "NONE"}, "CompressionType": "GZIP"}, RequestProgress={"Enabled": True})
    assert text == "7\n17\n27\n"
    assert ended and progress, "Progress events were requested"
    assert progress[-1]["BytesReturned"] == returned
    assert stats["BytesReturned"] == returned
    assert 0 < stats["BytesScanned"] <= len(packed)


def test_json_lines_and_document(s3, bucket):
    lines = b'{"id":1,"tags":["a","b"]}\n{"id":2,"tags":[]}\n{"id":3,"tags":["c"]}\n'
    s3.put_object(Bucket=bucket, Key="e.jsonl", Body=lines)
    text, *_ = run(s3, bucket, "e.jsonl", "SELECT s.id FROM S3Object s WHERE s.tags[0] IS NOT MISSING",
                   input_ser={"JSON": {"Type": "LINES"}}, output_ser={"JSON": {}})
    assert [json.loads(line) for line in text.splitlines()] == [{"id": 1}, {"id": 3}]
    s3.put_object(Bucket=bucket, Key="doc.json", Body=json.dumps({"items": [{"v": 1}, {"v": 5}, {"v": 9}]}).encode())
    text, *_ = run(s3, bucket, "doc.json", "SELECT SUM(i.v) AS total FROM S3Object[*].items[*] i WHERE i.v > 1",
                   input_ser={"JSON": {"Type": "DOCUMENT"}}, output_ser={"JSON": {}})
    assert json.loads(text) == {"total": 14}


def test_parquet(s3, bucket):
    # ids 0..999 in ten row groups of 100; grp = g<id/100>; val = id / 2.
    data = (FIXTURES / "rowgroups.parquet").read_bytes()
    s3.put_object(Bucket=bucket, Key="rg.parquet", Body=data)
    text, returned, stats, _, ended = run(s3, bucket, "rg.parquet", "SELECT s.id, s.val FROM S3Object s WHERE s.id > 997",
                                          input_ser={"Parquet": {}}, output_ser={"JSON": {}})
    assert [json.loads(line) for line in text.splitlines()] == [{"id": 998, "val": 499.0}, {"id": 999, "val": 499.5}]
    assert ended and stats["BytesReturned"] == returned
    assert 0 < stats["BytesScanned"] < len(data) / 3, "row groups whose statistics cannot match are not read"


def test_errors(s3, bucket):
    s3.put_object(Bucket=bucket, Key="people.csv", Body=PEOPLE)
    # Before the stream: an HTTP error, ClientError with the Select code.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        run(s3, bucket, "people.csv", "SELECT FROM S3Object")
    assert e.value.response["Error"]["Code"].startswith("Parse")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(botocore.exceptions.ClientError) as e:
        run(s3, bucket, "missing.csv", "SELECT * FROM S3Object")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    # Inside the stream: EventStreamError after the records produced before it, and no End.
    body = "".join(f"{i}\n" for i in range(20000)) + "oops\n"
    s3.put_object(Bucket=bucket, Key="late.csv", Body=body.encode())
    res = s3.select_object_content(
        Bucket=bucket, Key="late.csv", Expression="SELECT CAST(_1 AS INT) FROM S3Object", ExpressionType="SQL",
        InputSerialization={"CSV": {}}, OutputSerialization={"CSV": {}})
    seen = []
    with pytest.raises(botocore.exceptions.EventStreamError) as e:
        for event in res["Payload"]:
            assert "End" not in event
            if "Records" in event:
                seen.append(event["Records"]["Payload"])
    assert e.value.response["Error"]["Code"] == "CastFailed"
    produced = b"".join(seen).decode().split()
    assert produced == [str(i) for i in range(len(produced))]
