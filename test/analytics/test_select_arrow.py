"""S3 Select beyond AWS, read by pyarrow: boto3 asks for the cairn dialect and Arrow output with two query
parameters (added before signing), concatenates the Records payloads and pyarrow reads them as an IPC stream."""
import io

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from data import sales


def _with_switches(s3, **switches):
    """Adds x-cairn-* query parameters to every SelectObjectContent this client sends (signed with it)."""
    query = "&".join(f"x-cairn-{k}={v}" for k, v in switches.items())

    def add(request, **_):
        request.url += ("&" if "?" in request.url else "?") + query

    s3.meta.events.register("before-sign.s3.SelectObjectContent", add)
    return s3


def _select_bytes(s3, bucket, key, sql, input_serialization):
    res = s3.select_object_content(Bucket=bucket, Key=key, Expression=sql, ExpressionType="SQL",
                                   InputSerialization=input_serialization, OutputSerialization={"JSON": {}})
    return b"".join(ev["Records"]["Payload"] for ev in res["Payload"] if "Records" in ev)


def test_arrow_output_of_a_grouped_parquet_query(s3, bucket):
    table = sales()
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=len(table) // 4)
    s3.put_object(Bucket=bucket, Key="sales.parquet", Body=buf.getvalue())
    _with_switches(s3, dialect="cairn", output="arrow")

    sql = ("SELECT s.region, COUNT(*) AS n, SUM(s.qty) AS qty, MAX(s.amount) AS top FROM S3Object s "
           "GROUP BY s.region ORDER BY s.region")
    got = ipc.open_stream(_select_bytes(s3, bucket, "sales.parquet", sql, {"Parquet": {}})).read_all()

    want = (table.group_by("region").aggregate([("id", "count"), ("qty", "sum"), ("amount", "max")])
            .sort_by("region"))
    assert got.column_names == ["region", "n", "qty", "top"]
    assert got.schema.field("region").type == pa.string()
    assert got.schema.field("n").type == pa.int64()
    assert got.column("region").to_pylist() == want.column("region").to_pylist()
    assert got.column("n").to_pylist() == want.column("id_count").to_pylist()
    assert got.column("qty").to_pylist() == want.column("qty_sum").to_pylist()
    assert got.column("top").to_pylist() == want.column("amount_max").to_pylist()


def test_arrow_output_of_plain_rows_across_many_events(s3, bucket):
    rows = [f"{i},{i % 97},{'abc'[i % 3]}" for i in range(60_000)]
    s3.put_object(Bucket=bucket, Key="rows.csv", Body=("id,v,tag\n" + "\n".join(rows) + "\n").encode())
    _with_switches(s3, output="arrow")
    sql = "SELECT CAST(s.id AS INT) AS id, s.tag FROM S3Object s WHERE CAST(s.v AS INT) < 50"
    data = _select_bytes(s3, bucket, "rows.csv", sql, {"CSV": {"FileHeaderInfo": "USE"}})
    got = ipc.open_stream(data).read_all()
    want = [i for i in range(60_000) if i % 97 < 50]
    assert got.schema == pa.schema([("id", pa.int64()), ("tag", pa.string())])
    assert got.column("id").to_pylist() == want
    assert got.column("tag").to_pylist() == ["abc"[i % 3] for i in want]
