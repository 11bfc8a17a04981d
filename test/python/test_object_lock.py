"""Object lock through boto3, as an archive application uses it: a lock-enabled bucket with a default
retention, writes that are locked, deletes that are refused until the bypass, and a PUT without a digest
refused as AWS refuses it (nothing stored)."""
import base64
import datetime
import hashlib
import uuid

import botocore
import pytest


@pytest.fixture
def locked_bucket(cairn):
    client = cairn.client()
    name = "lock-" + uuid.uuid4().hex[:20]
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    yield name
    # Governance versions go with the bypass; the test leaves no compliance or legal hold behind.
    versions = client.list_object_versions(Bucket=name)
    for v in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
        client.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"], BypassGovernanceRetention=True)
    client.delete_bucket(Bucket=name)


def error_code(e: botocore.exceptions.ClientError) -> str:
    return e.response["Error"]["Code"]


def test_archive_flow(cairn, locked_bucket):
    s3 = cairn.client()
    assert s3.get_bucket_versioning(Bucket=locked_bucket)["Status"] == "Enabled"
    s3.put_object_lock_configuration(
        Bucket=locked_bucket,
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled",
                                 "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}},
    )
    v1 = s3.put_object(Bucket=locked_bucket, Key="report.pdf", Body=b"quarterly")["VersionId"]
    head = s3.head_object(Bucket=locked_bucket, Key="report.pdf")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.datetime.now(datetime.timezone.utc)

    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket=locked_bucket, Key="report.pdf", VersionId=v1)
    assert error_code(e.value) == "AccessDenied"
    # Deleting the key hides it behind a delete marker; the locked version is still there to read.
    assert s3.delete_object(Bucket=locked_bucket, Key="report.pdf")["DeleteMarker"] is True
    assert s3.get_object(Bucket=locked_bucket, Key="report.pdf", VersionId=v1)["Body"].read() == b"quarterly"

    s3.put_object_legal_hold(Bucket=locked_bucket, Key="report.pdf", VersionId=v1, LegalHold={"Status": "ON"})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket=locked_bucket, Key="report.pdf", VersionId=v1, BypassGovernanceRetention=True)
    assert error_code(e.value) == "AccessDenied"
    s3.put_object_legal_hold(Bucket=locked_bucket, Key="report.pdf", VersionId=v1, LegalHold={"Status": "OFF"})

    result = s3.delete_objects(Bucket=locked_bucket, Delete={"Objects": [{"Key": "report.pdf", "VersionId": v1}]})
    assert [err["Code"] for err in result.get("Errors", [])] == ["AccessDenied"]
    s3.delete_object(Bucket=locked_bucket, Key="report.pdf", VersionId=v1, BypassGovernanceRetention=True)
    keys = [v["VersionId"] for v in s3.list_object_versions(Bucket=locked_bucket).get("Versions", [])]
    assert keys == []


def test_lock_headers_need_a_digest(cairn, locked_bucket):
    s3 = cairn.client(request_checksum_calculation="when_required")
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=until)
    assert error_code(e.value) == "InvalidRequest"
    assert s3.list_object_versions(Bucket=locked_bucket).get("Versions", []) == []
    md5 = base64.b64encode(hashlib.md5(b"x").digest()).decode()
    s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x", ContentMD5=md5, ObjectLockMode="GOVERNANCE",
                  ObjectLockRetainUntilDate=until)
    assert s3.get_object_retention(Bucket=locked_bucket, Key="k")["Retention"]["Mode"] == "GOVERNANCE"
