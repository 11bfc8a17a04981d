"""Remote tiers with boto3: a second Cairn as the tier of a Cairn run with the lifecycle test clock (a day of
1 s). The tier is added with `cairn admin tier add` (a bucket the tier lacks is refused), a lifecycle rule moves
objects there (x-amz-storage-class shows the tier, bytes and ranges read back, the local shard files go), and
deleting the object removes its remote copy. Polls with a deadline; nothing sleeps as synchronisation."""
import os
import subprocess
import time
from pathlib import Path

import botocore
import pytest

from conftest import CAIRN, fresh_bucket, run_cairn


def wait_for(check, what, timeout=60):
    deadline = time.time() + timeout  # a bound for a loaded machine, not a timing assertion
    while not check():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    with run_cairn(tmp_path_factory.mktemp("cairn-tier")) as tier, \
            run_cairn(tmp_path_factory.mktemp("cairn-hot"), extra_env={"CAIRN_LIFECYCLE_DAY_SECONDS": "1"}) as hot:
        tier.client().create_bucket(Bucket="warm")
        yield hot, tier


def admin(hot, *args):
    env = dict(os.environ, CAIRN_ENDPOINT=hot.endpoint, CAIRN_ROOT_USER=hot.access_key,
               CAIRN_ROOT_PASSWORD=hot.secret_key)
    return subprocess.run(["node", str(CAIRN), "admin", "tier", *args], env=env, capture_output=True, text=True)


def shard_files(hot, bucket):
    drives = Path(hot.log).parent
    return [p for p in drives.glob(f"d*/{bucket}/**/part.*") if p.is_file()]


def test_transition_read_and_delete(servers):
    hot, tier = servers
    creds = ["--access-key", tier.access_key, "--secret-key", tier.secret_key]
    bad = admin(hot, "add", "WARM", tier.endpoint, "nosuch", "hot/", *creds)
    assert bad.returncode == 1 and "XMinioAdminTierBucketNotFound" in bad.stderr
    added = admin(hot, "add", "WARM", tier.endpoint, "warm", "hot/", *creds)
    assert added.returncode == 0, added.stderr
    assert "WARM" in admin(hot, "ls").stdout

    s3, remote = hot.client(), tier.client()
    bucket = next(fresh_bucket(hot))
    data = os.urandom(2 * 1024 * 1024 + 333)
    put = s3.put_object(Bucket=bucket, Key="cold/obj", Body=data, Metadata={"k": "v"})
    assert shard_files(hot, bucket)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "to-warm", "Filter": {"Prefix": "cold/"}, "Status": "Enabled",
         "Transitions": [{"Days": 1, "StorageClass": "WARM"}]}]})
    wait_for(lambda: s3.head_object(Bucket=bucket, Key="cold/obj").get("StorageClass") == "WARM", "the transition")
    head = s3.head_object(Bucket=bucket, Key="cold/obj")
    assert (head["ETag"], head["ContentLength"], head["Metadata"]) == (put["ETag"], len(data), {"k": "v"})
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["StorageClass"] == "WARM"
    assert s3.get_object(Bucket=bucket, Key="cold/obj")["Body"].read() == data
    got = s3.get_object(Bucket=bucket, Key="cold/obj", Range="bytes=1048570-1048600")["Body"].read()
    assert got == data[1048570:1048601]
    wait_for(lambda: not shard_files(hot, bucket), "the local shard files to go")
    remote_keys = lambda: [o["Key"] for o in remote.list_objects_v2(Bucket="warm").get("Contents", [])]
    assert len(remote_keys()) == 1 and remote_keys()[0].startswith("hot/")

    # Still in use: the tier stays.
    assert "XMinioAdminTierBackendNotEmpty" in admin(hot, "rm", "WARM").stderr
    s3.delete_object(Bucket=bucket, Key="cold/obj")
    wait_for(lambda: remote_keys() == [], "the remote copy to go")
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="cold/obj")
    assert admin(hot, "rm", "WARM").returncode == 0
