"""Spark over s3a (pyspark 4.1, hadoop-aws 3.4, local[2]) on the Parquet dataset: a count (footers only: Spark
takes row counts from the row groups' metadata) and an aggregate over three of the eight columns, each with
Parquet's vectored reads on (the column chunks of a row group asked as one vectored read, which S3A turns
into ranged GETs in parallel) and off (one stream per file, S3A's seeks and ranged GETs). One session reads
both servers: each bucket has its own endpoint (fs.s3a.bucket.<name>.*). The jars (hadoop-aws, the AWS SDK
bundle) come from Maven Central through Spark's Ivy into .venv-spark/ivy on the first run."""
import sys
from pathlib import Path

import datasets as ds_

AGG_COLUMNS = ["id", "region", "v1"]

READERS = ["spark-count", "spark-count-novec", "spark-aggregate", "spark-aggregate-novec"]


def _hadoop_version() -> str:
    import pyspark
    jars = sorted((Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar"))
    return jars[0].name[len("hadoop-client-api-"):-len(".jar")]


class Group:
    def __init__(self, targets, data_dir: Path, scale: float):
        self.targets = {t["name"]: t for t in targets}
        self.data_dir = data_dir
        self.scale = scale
        self.spark = None

    def prepare(self):
        import pyarrow.parquet as pq
        self.files = ds_.sales(self.data_dir, self.scale)
        ds_.upload(self.targets.values(), self.files)
        self.rows = sum(pq.ParquetFile(p).metadata.num_rows for p in self.files.values())
        footers = ds_.footers(self.files)
        chunks = ds_.parquet_ranges(self.files, columns=AGG_COLUMNS)
        self.spark = self._session()
        return {
            "spark-count": {"unit": "rows", "ranges": footers},
            "spark-count-novec": {"unit": "rows", "ranges": footers},
            "spark-aggregate": {"unit": "rows", "ranges": chunks},
            "spark-aggregate-novec": {"unit": "rows", "ranges": chunks},
        }

    def _session(self):
        from pyspark.sql import SparkSession
        local = self.data_dir / "spark-local"
        builder = (SparkSession.builder.master("local[2]").appName("cairn-readers")
                   .config("spark.jars.packages", f"org.apache.hadoop:hadoop-aws:{_hadoop_version()}")
                   .config("spark.jars.ivy", str(Path(sys.prefix) / "ivy"))
                   .config("spark.ui.enabled", "false")
                   .config("spark.local.dir", str(local))
                   .config("spark.sql.shuffle.partitions", "2")
                   .config("spark.hadoop.fs.s3a.aws.credentials.provider",
                           "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider")
                   .config("spark.hadoop.fs.s3a.path.style.access", "true")
                   .config("spark.hadoop.fs.s3a.connection.ssl.enabled", "false"))
        for t in self.targets.values():
            per = f"spark.hadoop.fs.s3a.bucket.{t['bucket']}."
            builder = (builder.config(per + "endpoint", t["endpoint"])
                       .config(per + "endpoint.region", t["region"])
                       .config(per + "access.key", t["access_key"])
                       .config(per + "secret.key", t["secret_key"]))
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return session

    def run(self, reader: str, target: str) -> int:
        from pyspark.sql import functions as F
        t = self.targets[target]
        self.spark.conf.set("parquet.hadoop.vectored.io.enabled", "false" if reader.endswith("-novec") else "true")
        df = self.spark.read.parquet(f"s3a://{t['bucket']}/sales/")
        if reader.startswith("spark-count"):
            rows = df.count()
        else:
            out = df.groupBy("region").agg(F.count("*").alias("n"), F.sum("v1"), F.max("id")).collect()
            rows = sum(r["n"] for r in out)
        if rows != self.rows:
            raise AssertionError(f"{reader}: {rows} rows, expected {self.rows}")
        return rows

    def close(self):
        if self.spark is not None:
            self.spark.stop()
