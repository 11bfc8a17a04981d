#!/usr/bin/env bash
# Runs the analytics client suites (test/analytics: pyarrow, polars, s3fs/pandas, DuckDB, and every notebook
# under notebooks/) against a real Cairn that the suite's conftest.py starts. Installs what they need on
# first use: a venv in .venv-analytics with test/analytics/requirements.txt (kept apart from .venv because
# s3fs pins botocore to an older range than test/python's boto3).
#
# With --torch it runs the heavy group instead (tests marked `torch`: PyTorch via s3torchconnector) in its
# own venv, .venv-torch, from test/analytics/requirements-torch.txt (about 5.4 GB: torch brings CUDA wheels).
# With --tensorflow it runs the other heavy group (tests marked `tensorflow`: tf.data over boto3 ranged GETs)
# in .venv-tensorflow, from test/analytics/requirements-tensorflow.txt. With --spark, tests marked `spark`
# (pyspark + hadoop-aws over s3a) in .venv-spark, from test/analytics/requirements-spark.txt; Spark's Ivy
# fetches its jars from Maven Central into .venv-spark/ivy on the first run. With --presto, tests marked `presto`
# (a PrestoDB server with a Hive catalog on Cairn, S3 Select pushdown) in .venv-analytics: the server itself
# is installed by scripts/install-presto.sh into .venv-presto on the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
select="not torch and not tensorflow and not spark and not presto" group=
case "${1:-}" in
  --torch) shift; select="torch" group=--torch ;;
  --tensorflow) shift; select="tensorflow" group=--tensorflow ;;
  --spark) shift; select="spark" group=--spark ;;
  --presto)
    shift
    select="presto"
    PRESTO_HOME=$(bash scripts/install-presto.sh)
    export PRESTO_HOME
    ;;
esac
venv=$(bash scripts/analytics-venv.sh $group)
exec $venv/bin/python -m pytest test/analytics -m "$select" -q -p no:cacheprovider "$@"
