"""PrestoDB 0.287 (scripts/install-presto.sh) scanning the Parquet dataset as a Hive table: every column read
(sums and maxima over all eight). One Presto server with one Hive catalog per target (`hive_<name>`, each
with its own file metastore folder and S3 endpoint), started by test/analytics/presto.py's start(); the
table is registered by writing the file metastore's document, as the presto tests do."""
import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

import datasets as ds_

sys_path_tests = Path(__file__).resolve().parents[2] / "test" / "analytics"

COLUMNS = [("id", "bigint"), ("region", "string"), ("qty", "int"), ("v1", "double"), ("v2", "double"),
           ("v3", "double"), ("v4", "double"), ("note", "string")]
SCAN = ("SELECT count(*), sum(qty), sum(v1 + v2 + v3 + v4), max(id), max(region), max(note) "
        "FROM {catalog}.bench.sales")

READERS = ["presto-scan"]


def _catalog(metastore: Path, t) -> str:
    return "\n".join([
        "connector.name=hive-hadoop2",
        "hive.metastore=file", f"hive.metastore.catalog.dir=file://{metastore}",
        f"hive.s3.endpoint={t['endpoint']}", "hive.s3.path-style-access=true", "hive.s3.ssl.enabled=false",
        f"hive.s3.aws-access-key={t['access_key']}", f"hive.s3.aws-secret-key={t['secret_key']}",
        "hive.s3.max-error-retries=2",
    ]) + "\n"


class Group:
    def __init__(self, targets, data_dir: Path, scale: float):
        self.targets = {t["name"]: t for t in targets}
        self.data_dir = data_dir
        self.scale = scale
        self.proc = None

    def prepare(self):
        import sys
        import pyarrow.parquet as pq
        sys.path.insert(0, str(sys_path_tests))
        import presto
        self.files = ds_.sales(self.data_dir, self.scale)
        ds_.upload(self.targets.values(), self.files)
        self.rows = sum(pq.ParquetFile(p).metadata.num_rows for p in self.files.values())
        self.root = Path(tempfile.mkdtemp(prefix="presto-readers-", dir=self.data_dir))
        metastores = {name: self.root / f"metastore-{name}" for name in self.targets}
        catalogs = {f"hive_{name}": _catalog(m, self.targets[name]) for name, m in metastores.items()}
        first = next(iter(self.targets.values()))
        default = SimpleNamespace(endpoint=first["endpoint"], access_key=first["access_key"],
                                  secret_key=first["secret_key"])
        self.proc, server = presto.start(Path(os.environ["PRESTO_HOME"]), self.root, default, catalogs)
        self.servers = {}
        for name, m in metastores.items():
            m.mkdir()
            self.servers[name] = presto.Presto(server.url, m)
            self.servers[name].query(f"CREATE SCHEMA IF NOT EXISTS hive_{name}.bench")
            self.servers[name].register_table("bench", "sales", COLUMNS, f"s3a://{self.targets[name]['bucket']}/sales",
                                              format="PARQUET")
        return {"presto-scan": {"unit": "rows", "ranges": ds_.whole(self.files)}}

    def run(self, reader: str, target: str) -> int:
        rows = self.servers[target].query(SCAN.format(catalog=f"hive_{target}"))
        if rows[0][0] != self.rows:
            raise AssertionError(f"{reader}: {rows[0][0]} rows, expected {self.rows}")
        return rows[0][0]

    def close(self):
        import shutil
        import presto
        if self.proc is not None:
            presto.stop(self.proc)
            shutil.rmtree(self.root, ignore_errors=True)
