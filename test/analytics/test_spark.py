"""Spark through pyspark and hadoop-aws (s3a, path style, plain HTTP) against Cairn: a DataFrame written as
partitioned Parquet through the S3A committers (magic and directory: every file is a multipart upload that
only the job commit completes), read back row for row and aggregated; a CSV uploaded with boto3 read by
Spark; S3A conditional writes (If-None-Match, If-Match) on PUT and on multipart completion. The heavy
group: pyspark and a JVM are started only here; hadoop-aws and the AWS SDK bundle are fetched from Maven
Central by Ivy into the venv (spark.jars.ivy) on the first run and reused afterwards."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cairn  # test/analytics/conftest.py, from test/python/conftest.py
from data import random_bytes, sales

pytestmark = pytest.mark.spark


def _bundled_versions() -> tuple[str, str]:
    """pyspark's own version and the Hadoop it bundles (hadoop-client-api-<v>.jar): hadoop-aws and
    spark-hadoop-cloud must match them exactly."""
    import pyspark
    jars = sorted((Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar"))
    assert jars, "pyspark ships no hadoop-client-api jar"
    return pyspark.__version__, jars[0].name[len("hadoop-client-api-"):-len(".jar")]


# spark-hadoop-cloud's other dependencies: connectors for other clouds, and jars pyspark already ships.
_EXCLUDES = ["com.google.cloud.bigdataoss:gcs-connector", "org.apache.hadoop:hadoop-azure",
             "org.apache.hadoop:hadoop-huaweicloud", "org.apache.hadoop:hadoop-cloud-storage",
             "org.apache.hadoop:hadoop-client-runtime", "joda-time:joda-time",
             "com.fasterxml.jackson.core:jackson-databind", "com.fasterxml.jackson.core:jackson-annotations",
             "com.fasterxml.jackson.dataformat:jackson-dataformat-cbor", "org.apache.httpcomponents:httpclient",
             "org.apache.httpcomponents:httpcore", "org.eclipse.jetty:jetty-util",
             "org.eclipse.jetty:jetty-util-ajax", "com.squareup.okhttp3:okhttp", "com.squareup.okio:okio"]


def _truststore(ca_file: str, folder: Path) -> tuple[Path, str]:
    """A PKCS12 truststore for the JVM: the JDK's own roots (Ivy fetches the jars from Maven Central over
    HTTPS in this JVM) plus the test's CA, imported with keytool. javax.net.ssl.trustStore replaces the JDK's
    roots rather than adding to them, hence the copy."""
    keytool = Path(os.path.realpath(shutil.which("keytool")))
    store, password = folder / "truststore.p12", "cairn-test"
    subprocess.run([str(keytool), "-importkeystore", "-noprompt", "-srckeystore",
                    str(keytool.parents[1] / "lib" / "security" / "cacerts"), "-srcstorepass", "changeit",
                    "-destkeystore", str(store), "-deststoretype", "PKCS12", "-deststorepass", password],
                   check=True, capture_output=True)
    subprocess.run([str(keytool), "-importcert", "-noprompt", "-alias", "cairn-test-ca", "-file", ca_file,
                    "-keystore", str(store), "-storepass", password], check=True, capture_output=True)
    return store, password


@pytest.fixture(scope="module")
def spark(cairn, tls_cairn, tmp_path_factory):
    from pyspark.sql import SparkSession
    local = tmp_path_factory.mktemp("spark")
    store, password = _truststore(tls_cairn.verify, local)
    s3a = {
        "fs.s3a.endpoint": cairn.endpoint,
        "fs.s3a.endpoint.region": cairn.region,
        "fs.s3a.path.style.access": "true",
        "fs.s3a.connection.ssl.enabled": "false",
        "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "fs.s3a.access.key": cairn.access_key,
        "fs.s3a.secret.key": cairn.secret_key,
        # Fail fast instead of retrying for minutes when Cairn answers wrongly.
        "fs.s3a.attempts.maximum": "2",
        "fs.s3a.retry.limit": "2",
        "fs.s3a.buffer.dir": str(local / "s3a-buffer"),
        # The S3A committers, reached through Hadoop's committer factory for the s3a scheme.
        "mapreduce.outputcommitter.factory.scheme.s3a": "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory",
        "fs.s3a.committer.name": "magic",
        "fs.s3a.committer.magic.enabled": "true",
        "fs.s3a.committer.staging.tmp.path": str(local / "staging"),
    }
    spark_version, hadoop_version = _bundled_versions()
    builder = (SparkSession.builder.master("local[2]").appName("cairn-s3a")
               .config("spark.jars.packages", f"org.apache.hadoop:hadoop-aws:{hadoop_version},"
                       f"org.apache.spark:spark-hadoop-cloud_2.13:{spark_version}")
               .config("spark.jars.excludes", ",".join(_EXCLUDES))
               .config("spark.jars.ivy", str(Path(sys.prefix) / "ivy"))
               .config("spark.ui.enabled", "false")
               # The driver's JVM (local mode: the executors too) trusts the CA of tls_cairn.
               .config("spark.driver.extraJavaOptions",
                       f"-Djavax.net.ssl.trustStore={store} -Djavax.net.ssl.trustStorePassword={password}")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.local.dir", str(local / "local"))
               # spark-hadoop-cloud's binding: Spark's commit protocol and Parquet's committer hand the job
               # to the committer Hadoop's factory picks for s3a (fs.s3a.committer.name), not to a rename.
               .config("spark.sql.sources.commitProtocolClass",
                       "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol")
               .config("spark.sql.parquet.output.committer.class",
                       "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter"))
    for key, value in s3a.items():
        builder = builder.config(f"spark.hadoop.{key}", value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.mark.parametrize("committer", ["magic", "directory"])
def test_parquet_through_s3a_committer(spark, s3, bucket, committer):
    from pyspark.sql import functions as F
    table = sales(rows=4000, seed=11)
    spark.conf.set("fs.s3a.committer.name", committer)
    path = f"s3a://{bucket}/sales"
    (spark.createDataFrame(table).repartition(3)
     .write.mode("overwrite").partitionBy("region").parquet(path))

    # What the committer left: partitioned Parquet files and a JSON _SUCCESS manifest naming the committer
    # (FileOutputCommitter writes an empty one), no pending uploads and nothing under __magic.
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]
    parts = [k for k in keys if k.endswith(".parquet")]
    assert {k.split("/")[1] for k in parts} == {f"region={r}" for r in set(table["region"].to_pylist())}
    assert not [k for k in keys if "__magic" in k], keys
    manifest = json.loads(s3.get_object(Bucket=bucket, Key="sales/_SUCCESS")["Body"].read())
    assert manifest["committer"] == committer
    assert len(manifest["filenames"]) == len(parts)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    back = spark.read.parquet(path)
    assert back.count() == table.num_rows
    got = back.select(*table.column_names).orderBy("id").collect()
    want = table.to_pylist()
    assert [r.asDict() for r in got] == want

    agg = (back.groupBy("region", "day").agg(F.count("*").alias("n"), F.sum("qty").alias("qty"))
           .orderBy("region", "day").collect())
    expect = {}
    for row in want:
        n, q = expect.get((row["region"], row["day"]), (0, 0))
        expect[(row["region"], row["day"])] = (n + 1, q + row["qty"])
    assert {(r["region"], r["day"]): (r["n"], r["qty"]) for r in agg} == expect
    # A filter on the partition column reads only that partition's files.
    assert back.where(F.col("region") == "eu").count() == sum(1 for r in want if r["region"] == "eu")


def test_read_csv_uploaded_with_boto3(spark, s3, bucket):
    from pyspark.sql import functions as F
    table = sales(rows=1500, seed=5)
    lines = ["id,region,day,amount,qty"] + [
        f'{r["id"]},{r["region"]},{r["day"]},{r["amount"]!r},{r["qty"]}' for r in table.to_pylist()]
    half = len(lines) // 2
    s3.put_object(Bucket=bucket, Key="csv/a.csv", Body="\n".join(lines[:half]).encode() + b"\n")
    s3.put_object(Bucket=bucket, Key="csv/b.csv", Body="\n".join(lines[:1] + lines[half:]).encode() + b"\n")

    df = spark.read.csv(f"s3a://{bucket}/csv/", header=True,
                        schema="id LONG, region STRING, day STRING, amount DOUBLE, qty INT")
    got = [r.asDict() for r in df.orderBy("id").collect()]
    want = [{k: r[k] for k in ("id", "region", "day", "amount", "qty")} for r in table.to_pylist()]
    assert got == want
    total = df.where(F.col("region") == "us").agg(F.sum("qty")).collect()[0][0]
    assert total == sum(r["qty"] for r in want if r["region"] == "us")



def test_s3a_over_https_on_an_sse_s3_bucket(spark, tls_cairn, sse_bucket):
    """Per-bucket s3a settings send this bucket to the HTTPS Cairn (the JVM trusts its CA through the
    truststore), with S3A's own SSE-S3 header on its writes (encryption.algorithm AES256); the bucket's default
    encryption is SSE-S3 too. Spark's committed Parquet is encrypted and read back by Spark and by pyarrow;
    pyarrow's is read by Spark."""
    import pyarrow.dataset as ds
    from pyarrow import fs
    s3 = tls_cairn.client()
    for key, value in {"endpoint": tls_cairn.endpoint, "connection.ssl.enabled": "true",
                       "access.key": tls_cairn.access_key, "secret.key": tls_cairn.secret_key,
                       "encryption.algorithm": "AES256"}.items():
        spark.conf.set(f"fs.s3a.bucket.{sse_bucket}.{key}", value)
    spark.conf.set("fs.s3a.committer.name", "magic")
    table = sales(rows=3000, seed=17)
    (spark.createDataFrame(table).repartition(2)
     .write.mode("overwrite").partitionBy("region").parquet(f"s3a://{sse_bucket}/spark"))

    parts = [o["Key"] for o in s3.list_objects_v2(Bucket=sse_bucket, Prefix="spark/")["Contents"]
             if o["Key"].endswith(".parquet")]
    assert {k.split("/")[1] for k in parts} == {f"region={r}" for r in set(table["region"].to_pylist())}
    for key in parts:
        assert s3.head_object(Bucket=sse_bucket, Key=key)["ServerSideEncryption"] == "AES256"
    want = table.to_pylist()
    columns = ["id", "region", "day", "amount", "qty", "note"]
    got = spark.read.parquet(f"s3a://{sse_bucket}/spark").select(*columns).orderBy("id").collect()
    assert [r.asDict() for r in got] == want

    arrow_fs = fs.S3FileSystem(access_key=tls_cairn.access_key, secret_key=tls_cairn.secret_key,
                               endpoint_override=f"{tls_cairn.host}:{tls_cairn.port}", scheme="https",
                               region=tls_cairn.region, tls_ca_file_path=tls_cairn.verify)
    by_arrow = ds.dataset(f"{sse_bucket}/spark", format="parquet", filesystem=arrow_fs,
                          partitioning="hive").to_table()
    assert sorted(by_arrow["id"].to_pylist()) == [r["id"] for r in want]

    ds.write_dataset(table, f"{sse_bucket}/arrow", format="parquet", filesystem=arrow_fs, partitioning=["region"],
                     partitioning_flavor="hive")
    got = spark.read.parquet(f"s3a://{sse_bucket}/arrow").select(*columns).orderBy("id").collect()
    assert [r.asDict() for r in got] == want


def test_conditional_create_and_overwrite(spark, s3, bucket):
    """S3A's conditional writes (createFile options, sent on the PUT): conditional.overwrite sends
    If-None-Match: * (an existing key fails on Cairn's 412 and is left as it was; a new key is written) and
    conditional.overwrite.etag sends If-Match (a stale ETag fails, the current one replaces the object)."""
    jvm = spark.sparkContext._jvm
    conf = jvm.org.apache.hadoop.conf.Configuration(spark.sparkContext._jsc.hadoopConfiguration())
    conf.set("fs.s3a.create.conditional.enabled", "true")
    conf.set("fs.s3a.multipart.size", "5M")
    fs = jvm.org.apache.hadoop.fs.FileSystem.newInstance(jvm.java.net.URI(f"s3a://{bucket}/"), conf)

    def write(key, body, **options):
        builder = fs.createFile(jvm.org.apache.hadoop.fs.Path(f"s3a://{bucket}/{key}")).overwrite(True)
        for name, value in options.items():
            builder = builder.must(f"fs.option.create.{name}", value)
        out = builder.build()
        out.write(bytearray(body))
        out.close()

    def body(key):
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    try:
        first = s3.put_object(Bucket=bucket, Key="cond/taken", Body=b"first")["ETag"].strip('"')
        with pytest.raises(Exception) as raised:
            write("cond/taken", b"second", **{"conditional.overwrite": True})
        assert "412" in str(raised.value) or "FileAlreadyExists" in str(raised.value), str(raised.value)[:1500]
        assert body("cond/taken") == b"first"
        write("cond/fresh", b"fresh", **{"conditional.overwrite": True})
        assert body("cond/fresh") == b"fresh"

        with pytest.raises(Exception) as raised:
            write("cond/taken", b"third", **{"conditional.overwrite.etag": "0" * 32})
        assert "412" in str(raised.value) or "RemoteFileChanged" in str(raised.value), str(raised.value)[:1500]
        assert body("cond/taken") == b"first"
        write("cond/taken", b"fourth", **{"conditional.overwrite.etag": first})
        assert body("cond/taken") == b"fourth"

        # Past fs.s3a.multipart.size the stream uploads parts and the condition rides on the completion.
        big = random_bytes(6 * 1024 * 1024 + 17, seed=3)
        with pytest.raises(Exception) as raised:
            write("cond/taken", big, **{"conditional.overwrite": True})
        assert "412" in str(raised.value) or "FileAlreadyExists" in str(raised.value), str(raised.value)[:1500]
        assert body("cond/taken") == b"fourth"
        assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []   # S3A aborted it
        write("cond/big", big, **{"conditional.overwrite": True})
        assert body("cond/big") == big
        assert s3.head_object(Bucket=bucket, Key="cond/big")["ETag"].endswith('-2"')
    finally:
        fs.close()


def test_s3a_mkdirs_on_the_nas_gateway(spark, tmp_path_factory):
    """S3A's mkdirs PUTs an empty `made/deep/` (a folder marker): on `cairn gateway nas` it is a plain folder,
    which getFileStatus and listStatus see as a directory and delete removes."""
    root = tmp_path_factory.mktemp("nas") / "share"
    (root / "lake").mkdir(parents=True)
    with run_cairn(tmp_path_factory.mktemp("nas-log"), command=("gateway", "nas", str(root))) as nas:
        jvm = spark.sparkContext._jvm
        conf = jvm.org.apache.hadoop.conf.Configuration(spark.sparkContext._jsc.hadoopConfiguration())
        conf.set("fs.s3a.endpoint", nas.endpoint)
        conf.set("fs.s3a.access.key", nas.access_key)
        conf.set("fs.s3a.secret.key", nas.secret_key)
        fs = jvm.org.apache.hadoop.fs.FileSystem.newInstance(jvm.java.net.URI("s3a://lake/"), conf)
        path = jvm.org.apache.hadoop.fs.Path
        try:
            assert fs.mkdirs(path("s3a://lake/made/deep"))
            assert (root / "lake" / "made" / "deep").is_dir()
            assert fs.getFileStatus(path("s3a://lake/made/deep")).isDirectory()
            listed = fs.listStatus(path("s3a://lake/made"))
            assert [(s.getPath().getName(), s.isDirectory()) for s in listed] == [("deep", True)]
            assert fs.delete(path("s3a://lake/made"), True)
            assert not (root / "lake" / "made").exists()
        finally:
            fs.close()
