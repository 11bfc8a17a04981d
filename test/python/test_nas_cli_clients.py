"""The AWS CLI and rclone against `cairn gateway nas`: a folder whose files another process wrote before the
gateway started and writes while it runs, synced down byte for byte; uploads land as plain files in the folder;
sizes and MD5s checked by rclone; deletions remove the files."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import random_file, run_cairn, venv_bin
from test_cli_clients import assert_same_tree, make_tree, run


@pytest.fixture(scope="module")
def share(tmp_path_factory):
    root = tmp_path_factory.mktemp("nas-cli") / "share"
    make_tree(root / "files" / "before")  # placed by another process before the gateway starts
    return root


@pytest.fixture(scope="module")
def nas(share, tmp_path_factory):
    with run_cairn(tmp_path_factory.mktemp("nas-cli-log"), command=("gateway", "nas", str(share))) as server:
        yield server


@pytest.fixture
def aws(nas, tmp_path):
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n"
                      "    multipart_threshold = 8MB\n    multipart_chunksize = 8MB\n")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=nas.access_key, AWS_SECRET_ACCESS_KEY=nas.secret_key,
               AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    return lambda *args: run([venv_bin("aws"), "--endpoint-url", nas.endpoint, *args], env=env)


@pytest.fixture
def rclone(nas, tmp_path):
    exe = shutil.which("rclone")
    if not exe:
        pytest.fail("rclone is not installed; scripts/test-python.sh installs it (Debian package rclone)")
    cfg = tmp_path / "rclone.conf"
    cfg.write_text(
        "[nas]\ntype = s3\nprovider = Other\n"
        f"access_key_id = {nas.access_key}\nsecret_access_key = {nas.secret_key}\n"
        f"endpoint = {nas.endpoint}\nregion = us-east-1\nforce_path_style = true\n"
        "chunk_size = 5Mi\nupload_cutoff = 5Mi\n")
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}

    def call(*args):
        return run([exe, "--config", str(cfg), *args], env=env)

    call.base, call.env = [exe, "--config", str(cfg)], env  # for commands expected to fail
    return call


def test_awscli_syncs_files_written_by_others_before_and_during_the_run(aws, share, tmp_path):
    down = tmp_path / "down"
    aws("s3", "sync", "s3://files/before", str(down / "before"))
    assert_same_tree(share / "files" / "before", down / "before")
    # Another process writes a file (and a folder for it) while the gateway runs: the next listing has it.
    (share / "files" / "during").mkdir()
    during = random_file(share / "files" / "during" / "late.bin", 3 * (1 << 20) + 7, seed=21)
    assert "late.bin" in aws("s3", "ls", "--recursive", "s3://files/")
    aws("s3", "cp", "s3://files/during/late.bin", str(down / "late.bin"))
    assert (down / "late.bin").read_bytes() == during.read_bytes()
    # Uploads (one multipart: 9 MiB over 8 MiB parts) are plain files in the folder, whole.
    src = make_tree(tmp_path / "src")
    aws("s3", "sync", str(src), "s3://files/up")
    assert_same_tree(src, share / "files" / "up")
    aws("s3", "rm", "--recursive", "s3://files/up")
    assert not any(p.is_file() for p in (share / "files").glob("up/**/*"))


def test_rclone_checks_and_syncs_both_ways(rclone, share, tmp_path):
    rclone("check", str(share / "files" / "before"), "nas:files/before")  # sizes and MD5s
    src = make_tree(tmp_path / "src")
    rclone("sync", str(src), "nas:files/rc")
    rclone("check", str(src), "nas:files/rc")
    assert_same_tree(src, share / "files" / "rc")
    # A file changed behind the gateway: the next check sees it differ, a sync brings the new bytes down.
    random_file(share / "files" / "rc" / "a.txt", 11, seed=99)
    differs = subprocess.run([*rclone.base, "check", str(src), "nas:files/rc"], env=rclone.env,
                             capture_output=True, text=True, timeout=600)
    assert differs.returncode != 0 and "a.txt" in differs.stderr
    back = tmp_path / "back"
    rclone("sync", "nas:files/rc", str(back))
    assert (back / "a.txt").read_bytes() == (share / "files" / "rc" / "a.txt").read_bytes()
    rclone("purge", "nas:files/rc")
    assert not any(p.is_file() for p in (share / "files").glob("rc/**/*"))
