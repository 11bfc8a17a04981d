"""A single-node PrestoDB (coordinator and worker in one JVM) for the `presto` group: its configuration, a Hive
catalog whose table metadata live in a local folder (hive.metastore=file) and whose data live on Cairn (s3a://,
path style, plain HTTP, S3 Select pushdown on), and a small client of Presto's REST protocol (/v1/statement).

Tables on Cairn are registered by writing the file metastore's JSON document: Presto 0.287's file metastore
refuses CREATE TABLE at a location that is not a local folder (it checks it with java.io.File), so the test
stands where a Glue crawler or Hive's own DDL would, and Presto reads and writes the tables as any Hive table."""
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from conftest import stop_process  # test/analytics/conftest.py, which has it from test/python/conftest.py

# Presto 0.287 predates Java 17: its bytecode generators and Guice reflect into java.base.
_OPENS = ["java.lang", "java.lang.reflect", "java.lang.invoke", "java.nio", "java.util", "java.util.concurrent",
          "java.util.concurrent.atomic", "java.io", "java.net", "java.security", "java.text", "java.time",
          "sun.nio.ch", "sun.nio.cs", "sun.security.action", "jdk.internal.misc", "jdk.internal.ref"]

_TEXT = {"serDe": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
         "inputFormat": "org.apache.hadoop.mapred.TextInputFormat",
         "outputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"}
_PARQUET = {"serDe": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            "inputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "outputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"}


class PrestoError(Exception):
    pass


@dataclass
class Presto:
    url: str
    metastore: Path

    def query(self, sql: str, **session: str) -> list[list]:
        """Runs one statement and returns its rows, following nextUri until the query has no more pages."""
        headers = {"X-Presto-User": "cairn-test", "X-Presto-Catalog": "hive", "X-Presto-Schema": "default"}
        if session:
            headers["X-Presto-Session"] = ",".join(f"{k}={v}" for k, v in session.items())
        page = requests.post(f"{self.url}/v1/statement", data=sql.encode(), headers=headers, timeout=30).json()
        rows: list[list] = []
        while True:
            rows += page.get("data", [])
            if "error" in page:
                raise PrestoError(f"{page['error'].get('errorName')}: {page['error'].get('message')}\n{sql}")
            if "nextUri" not in page:
                return rows
            page = requests.get(page["nextUri"], headers=headers, timeout=120).json()

    def register_table(self, schema: str, name: str, columns: list[tuple[str, str]], location: str, *,
                       format: str = "TEXTFILE", delimiter: str = ",") -> str:
        """An external Hive table (Hive column types) at `location`: TEXTFILE through LazySimpleSerDe (the
        only serde Presto pushes down to S3 Select) with `delimiter` between fields, or PARQUET."""
        meta = {"owner": "cairn-test", "tableType": "EXTERNAL_TABLE",
                "dataColumns": [{"name": n, "type": t} for n, t in columns], "partitionColumns": [],
                "parameters": {"EXTERNAL": "TRUE"}, "storageParameters": {}, "columnStatistics": {},
                "storageFormat": _TEXT if format == "TEXTFILE" else _PARQUET,
                "serdeParameters": ({"field.delim": delimiter, "serialization.format": delimiter}
                                    if format == "TEXTFILE" else {}),
                "externalLocation": location}
        folder = self.metastore / schema / name
        folder.mkdir(parents=True)
        (folder / ".prestoSchema").write_text(json.dumps(meta))
        return f"hive.{schema}.{name}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_config(etc: Path, data: Path, port: int, metastore: Path, cairn) -> None:
    (etc / "catalog").mkdir(parents=True)
    (etc / "node.properties").write_text(f"node.environment=test\nnode.id=cairn-test\nnode.data-dir={data}\n")
    jvm = ["-server", "-Xmx2G", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-Djdk.attach.allowAttachSelf=true",
           "-Dio.netty.tryReflectionSetAccessible=true", f"-Djava.io.tmpdir={data}",
           *[f"--add-opens=java.base/{p}=ALL-UNNAMED" for p in _OPENS],
           "--add-opens=java.management/sun.management=ALL-UNNAMED"]
    (etc / "jvm.config").write_text("\n".join(jvm) + "\n")
    (etc / "config.properties").write_text("\n".join([
        "coordinator=true", "node-scheduler.include-coordinator=true", f"http-server.http.port={port}",
        "discovery-server.enabled=true", f"discovery.uri=http://127.0.0.1:{port}",
        "query.max-memory=1GB", "query.max-memory-per-node=512MB", "query.max-total-memory-per-node=768MB",
    ]) + "\n")
    (etc / "catalog" / "hive.properties").write_text("\n".join([
        "connector.name=hive-hadoop2",
        "hive.metastore=file", f"hive.metastore.catalog.dir=file://{metastore}",
        f"hive.s3.endpoint={cairn.endpoint}", "hive.s3.path-style-access=true", "hive.s3.ssl.enabled=false",
        f"hive.s3.aws-access-key={cairn.access_key}", f"hive.s3.aws-secret-key={cairn.secret_key}",
        f"hive.s3.staging-directory={data / 's3-staging'}", "hive.s3.max-error-retries=2",
        "hive.s3select-pushdown.enabled=true",
        # Splits of 1 MB: an object of a few MB is read as several Select requests with a ScanRange each.
        "hive.max-split-size=1MB", "hive.max-initial-split-size=1MB",
        "hive.non-managed-table-writes-enabled=true",
    ]) + "\n")


def start(home: Path, root: Path, cairn, catalogs: dict[str, str] | None = None) -> tuple[subprocess.Popen, Presto]:
    """Starts the server (launcher.py `run` execs the JVM in the foreground, so the process is the JVM) and
    waits until it answers queries. Its log goes to root/presto.log. `catalogs`: more catalogs beside the
    `hive` one (name -> the text of its properties file), as bench/readers uses for one catalog per server."""
    etc, data, metastore = root / "etc", root / "data", root / "metastore"
    data.mkdir()
    metastore.mkdir()
    port = _free_port()
    _write_config(etc, data, port, metastore, cairn)
    for name, properties in (catalogs or {}).items():
        (etc / "catalog" / f"{name}.properties").write_text(properties)
    log = open(root / "presto.log", "wb")
    proc = subprocess.Popen(["python3", str(home / "bin" / "launcher.py"), "run", f"--etc-dir={etc}",
                             f"--data-dir={data}"], stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    log.close()
    presto = Presto(f"http://127.0.0.1:{port}", metastore)
    deadline = time.time() + 180
    probe = None
    while True:
        if proc.poll() is not None:
            raise RuntimeError("presto exited early:\n" + (root / "presto.log").read_text()[-6000:])
        try:
            # Ready once a Hive split can be scheduled: the coordinator must have registered itself as a worker
            # (a SELECT 1 runs before that), so the probe reads a one-row table in the local metastore folder.
            if probe is None:
                presto.query("CREATE SCHEMA IF NOT EXISTS hive.ready")
                presto.query("CREATE TABLE IF NOT EXISTS hive.ready.probe (x integer) WITH (format = 'TEXTFILE')")
                probe = metastore / "ready" / "probe"
                (probe / "row").write_text("1\n")
            if presto.query("SELECT x FROM hive.ready.probe") == [[1]]:
                return proc, presto
        except (requests.RequestException, PrestoError, ValueError):
            pass
        if time.time() > deadline:
            stop(proc)
            raise RuntimeError("presto did not answer in 180 s:\n" + (root / "presto.log").read_text()[-6000:])
        time.sleep(1)


def stop(proc: subprocess.Popen) -> None:
    stop_process(proc, timeout=30)
