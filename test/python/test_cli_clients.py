"""The AWS CLI, s3cmd and rclone against a running Cairn: upload, list, download, sync both ways, delete."""
import filecmp
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import random_file, venv_bin


def make_tree(root: Path) -> Path:
    """A small folder tree with awkward names and sizes around the 1 MiB block."""
    files = {"a.txt": 10, "sub/b.bin": (1 << 20) + 3, "sub/deeper/c d.dat": 0, "ünï/ç.bin": 5000,
             "big.bin": 9 * (1 << 20) + 11}
    for i, (name, size) in enumerate(files.items()):
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        random_file(p, size, seed=i)
    return root


def assert_same_tree(a: Path, b: Path):
    left = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    right = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    assert left == right
    for rel in left:
        assert filecmp.cmp(a / rel, b / rel, shallow=False), rel


def run(cmd, env=None, **kw):
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, **kw)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r.stdout


# ---------------------------------------------------------------------------------------------- AWS CLI
@pytest.fixture(params=["defaults", "when_required"])
def aws(request, cairn, tmp_path):
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n"
                      "    multipart_threshold = 8MB\n    multipart_chunksize = 8MB\n")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=cairn.access_key, AWS_SECRET_ACCESS_KEY=cairn.secret_key,
               AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    if request.param == "when_required":
        env.update(AWS_REQUEST_CHECKSUM_CALCULATION="when_required", AWS_RESPONSE_CHECKSUM_VALIDATION="when_required")
    base = [venv_bin("aws"), "--endpoint-url", cairn.endpoint]

    def call(*args):
        return run(base + list(args), env=env)

    call.base, call.env = base, env  # for commands expected to fail
    return call


def test_awscli_cp_ls_sync(aws, bucket, tmp_path):
    src = make_tree(tmp_path / "src")
    aws("s3", "cp", str(src / "a.txt"), f"s3://{bucket}/single/a.txt")
    assert "a.txt" in aws("s3", "ls", f"s3://{bucket}/single/")
    aws("s3", "sync", str(src), f"s3://{bucket}/tree")
    listing = aws("s3", "ls", "--recursive", f"s3://{bucket}/tree/")
    assert "big.bin" in listing and "ç.bin" in listing
    back = tmp_path / "back"
    aws("s3", "sync", f"s3://{bucket}/tree", str(back))
    assert_same_tree(src, back)
    # A second sync has nothing to do; a deletion propagates with --delete.
    (src / "a.txt").unlink()
    aws("s3", "sync", "--delete", str(src), f"s3://{bucket}/tree")
    assert "a.txt" not in aws("s3", "ls", "--recursive", f"s3://{bucket}/tree/")
    aws("s3", "rm", "--recursive", f"s3://{bucket}/")
    assert aws("s3", "ls", "--recursive", f"s3://{bucket}/").strip() == ""


def test_awscli_presign_and_s3api(aws, bucket, tmp_path):
    f = random_file(tmp_path / "p.bin", 12345, seed=3)
    aws("s3api", "put-object", "--bucket", bucket, "--key", "p.bin", "--body", str(f))
    url = aws("s3", "presign", f"s3://{bucket}/p.bin", "--expires-in", "60").strip()
    import requests
    assert requests.get(url).content == f.read_bytes()
    out = tmp_path / "out.bin"
    aws("s3api", "get-object", "--bucket", bucket, "--key", "p.bin", str(out))
    assert out.read_bytes() == f.read_bytes()
    aws("s3", "cp", f"s3://{bucket}/p.bin", f"s3://{bucket}/copy.bin")
    aws("s3", "cp", f"s3://{bucket}/copy.bin", str(tmp_path / "copy.bin"))
    assert (tmp_path / "copy.bin").read_bytes() == f.read_bytes()



def test_awscli_object_lock_and_lifecycle(aws, cairn, bucket, tmp_path):
    """WORM and lifecycle through `aws s3api`: a lock-enabled bucket with a default GOVERNANCE retention, a
    version it protects (deleting it refused without the bypass, allowed with it), and a lifecycle rule stored,
    read back and announced on PUT (x-amz-expiration)."""
    import json
    import uuid
    locked = "py-lock-" + uuid.uuid4().hex[:16]
    aws("s3api", "create-bucket", "--bucket", locked, "--object-lock-enabled-for-bucket")
    rule = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}
    aws("s3api", "put-object-lock-configuration", "--bucket", locked,
        "--object-lock-configuration", json.dumps(rule))
    assert json.loads(aws("s3api", "get-object-lock-configuration", "--bucket", locked)) == {
        "ObjectLockConfiguration": rule}
    f = random_file(tmp_path / "w.bin", 1000, seed=9)
    version = json.loads(aws("s3api", "put-object", "--bucket", locked, "--key", "w", "--body", str(f)))["VersionId"]
    retention = json.loads(aws("s3api", "get-object-retention", "--bucket", locked, "--key", "w",
                               "--version-id", version))["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    refused = subprocess.run(aws.base + ["s3api", "delete-object", "--bucket", locked, "--key", "w", "--version-id",
                                         version], env=aws.env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
    assert version in aws("s3api", "list-object-versions", "--bucket", locked)
    aws("s3api", "delete-object", "--bucket", locked, "--key", "w", "--version-id", version,
        "--bypass-governance-retention")
    assert version not in aws("s3api", "list-object-versions", "--bucket", locked)
    aws("s3api", "delete-bucket", "--bucket", locked)

    rules = {"Rules": [{"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 3}}]}
    aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket, "--lifecycle-configuration",
        json.dumps(rules))
    assert json.loads(aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket))["Rules"] == rules["Rules"]
    put = json.loads(aws("s3api", "put-object", "--bucket", bucket, "--key", "logs/a", "--body", str(f)))
    assert 'rule-id="logs"' in put["Expiration"]
    aws("s3api", "delete-bucket-lifecycle", "--bucket", bucket)
    gone = subprocess.run(aws.base + ["s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket],
                          env=aws.env, capture_output=True, text=True, timeout=120)
    assert gone.returncode != 0 and "NoSuchLifecycleConfiguration" in gone.stderr


# ---------------------------------------------------------------------------------------------- s3cmd
@pytest.fixture
def s3cmd(cairn, tmp_path):
    cfg = tmp_path / "s3cfg"
    cfg.write_text(
        "[default]\n"
        f"access_key = {cairn.access_key}\nsecret_key = {cairn.secret_key}\n"
        f"host_base = {cairn.host}:{cairn.port}\nhost_bucket = {cairn.host}:{cairn.port}\n"
        "use_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n"
        "multipart_chunk_size_mb = 5\n")
    return lambda *args: run([venv_bin("s3cmd"), "-c", str(cfg), *args])


def test_s3cmd(s3cmd, bucket, tmp_path):
    src = make_tree(tmp_path / "src")
    s3cmd("put", str(src / "big.bin"), f"s3://{bucket}/big.bin")  # multipart (5 MiB chunks)
    s3cmd("get", f"s3://{bucket}/big.bin", str(tmp_path / "big.back"))
    assert filecmp.cmp(src / "big.bin", tmp_path / "big.back", shallow=False)
    s3cmd("sync", str(src) + "/", f"s3://{bucket}/tree/")
    assert "c d.dat" in s3cmd("ls", "--recursive", f"s3://{bucket}/tree/")
    back = tmp_path / "back"
    back.mkdir()
    s3cmd("sync", f"s3://{bucket}/tree/", str(back) + "/")
    assert_same_tree(src, back)
    s3cmd("del", "--recursive", "--force", f"s3://{bucket}/")
    assert s3cmd("ls", "--recursive", f"s3://{bucket}/").strip() == ""


def test_s3cmd_signature_v2(cairn, bucket, tmp_path):
    cfg = tmp_path / "s3cfg2"
    cfg.write_text(
        "[default]\n"
        f"access_key = {cairn.access_key}\nsecret_key = {cairn.secret_key}\n"
        f"host_base = {cairn.host}:{cairn.port}\nhost_bucket = {cairn.host}:{cairn.port}\n"
        "use_https = False\nsignature_v2 = True\n")
    f = random_file(tmp_path / "v2.bin", 4321, seed=9)
    run([venv_bin("s3cmd"), "-c", str(cfg), "put", str(f), f"s3://{bucket}/v2.bin"])
    run([venv_bin("s3cmd"), "-c", str(cfg), "get", f"s3://{bucket}/v2.bin", str(tmp_path / "v2.back")])
    assert (tmp_path / "v2.back").read_bytes() == f.read_bytes()


# ---------------------------------------------------------------------------------------------- rclone
@pytest.fixture
def rclone(cairn, tmp_path):
    exe = shutil.which("rclone")
    if not exe:
        pytest.fail("rclone is not installed; scripts/test-python.sh installs it (Debian package rclone)")
    cfg = tmp_path / "rclone.conf"
    cfg.write_text(
        "[cairn]\ntype = s3\nprovider = Other\n"
        f"access_key_id = {cairn.access_key}\nsecret_access_key = {cairn.secret_key}\n"
        f"endpoint = {cairn.endpoint}\nregion = us-east-1\nforce_path_style = true\n"
        "chunk_size = 5Mi\nupload_cutoff = 5Mi\n")
    # rclone refuses to start when AWS_CA_BUNDLE names a bundle it cannot load into its own transport.
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    return lambda *args: run([exe, "--config", str(cfg), *args], env=env)


def test_rclone_sync_both_ways(rclone, bucket, tmp_path):
    src = make_tree(tmp_path / "src")
    rclone("sync", str(src), f"cairn:{bucket}/tree")
    rclone("check", str(src), f"cairn:{bucket}/tree")  # compares sizes and MD5s
    back = tmp_path / "back"
    rclone("sync", f"cairn:{bucket}/tree", str(back))
    assert_same_tree(src, back)
    rclone("copyto", f"cairn:{bucket}/tree/a.txt", f"cairn:{bucket}/copied.txt")
    assert "copied.txt" in rclone("lsf", f"cairn:{bucket}")
    rclone("purge", f"cairn:{bucket}/tree")
    assert rclone("lsf", "-R", f"cairn:{bucket}/tree").strip() == ""
