"""minio-py's MinioAdmin operating a Cairn of its own (`cairn server --workers 2`): info(), get_data_usage_info()
and top_locks() read what a known setup made; a user without the admin actions is refused; service_restart()
starts the workers again and the server keeps serving; service_stop() ends it."""
import json
import time

import pytest
import requests
from minio.credentials import StaticProvider
from minio.error import MinioAdminException
from minio.minioadmin import MinioAdmin

from conftest import run_cairn


def admin_for(cairn, key: str, secret: str) -> MinioAdmin:
    return MinioAdmin(endpoint=f"{cairn.host}:{cairn.port}", credentials=StaticProvider(key, secret),
                      secure=False, region="us-east-1")


def wait_for_log(cairn, message: str) -> None:
    """Polls the server's log for a line (start-up-style polling, not a timing assertion)."""
    deadline = time.time() + 60
    while time.time() < deadline:
        for line in cairn.log.read_text(errors="replace").splitlines():
            try:
                if json.loads(line).get("msg") == message:
                    return
            except ValueError:
                continue
        time.sleep(0.1)
    raise AssertionError(f"no log line {message!r} within 60 s")


@pytest.fixture
def own(tmp_path):
    with run_cairn(tmp_path, ("--workers", "2")) as server:
        yield server


def test_info_usage_locks_service(own):
    s3 = own.client()
    s3.create_bucket(Bucket="pyadmin")
    s3.put_bucket_versioning(Bucket="pyadmin", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="pyadmin", Key="a", Body=b"12345")
    s3.put_object(Bucket="pyadmin", Key="a", Body=b"1234567")
    s3.put_object(Bucket="pyadmin", Key="b", Body=b"abc")
    s3.delete_object(Bucket="pyadmin", Key="b")
    admin = admin_for(own, own.access_key, own.secret_key)

    info = json.loads(admin.info())
    assert info["mode"] == "online"
    assert info["buckets"] == {"count": 1}
    assert info["objects"] == {"count": 1}
    assert info["versions"] == {"count": 3}
    assert info["deletemarkers"] == {"count": 1}
    assert info["usage"] == {"size": 15}
    assert info["backend"]["backendType"] == "Erasure"
    assert info["backend"]["onlineDisks"] == 4
    assert info["backend"]["standardSCParity"] == 2
    [server] = info["servers"]
    assert server["endpoint"] == f"{own.host}:{own.port}"
    assert [d["state"] for d in server["drives"]] == ["ok"] * 4

    usage = json.loads(admin.get_data_usage_info())
    ranges = ["LESS_THAN_1024_B", "BETWEEN_1024B_AND_1_MB", "BETWEEN_1_MB_AND_10_MB", "BETWEEN_10_MB_AND_64_MB",
              "BETWEEN_64_MB_AND_128_MB", "BETWEEN_128_MB_AND_512_MB", "GREATER_THAN_512_MB"]
    assert usage["bucketsUsageInfo"]["pyadmin"] == {
        "size": 15, "objectsCount": 1, "versionsCount": 3, "deleteMarkersCount": 1,
        "objectsSizesHistogram": {r: (1 if r == "LESS_THAN_1024_B" else 0) for r in ranges}}
    assert json.loads(admin.top_locks()) == []

    # A user with no admin action is refused, and the server goes on.
    admin.user_add("pyadminuser", "py-admin-user-secret")
    user = admin_for(own, "pyadminuser", "py-admin-user-secret")
    for call in (user.info, user.get_data_usage_info, user.top_locks, user.service_restart, user.service_stop):
        with pytest.raises(MinioAdminException) as e:
            call()
        assert e.value._code == "403" and "AccessDenied" in e.value._body

    admin.service_restart()
    wait_for_log(own, "admin API: every worker restarted")
    assert s3.get_object(Bucket="pyadmin", Key="a")["Body"].read() == b"1234567"
    s3.put_object(Bucket="pyadmin", Key="after-restart", Body=b"x")

    admin.service_stop()
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            requests.get(own.endpoint + "/health/live", timeout=1)
        except requests.ConnectionError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the server still answers 60 s after service_stop")
