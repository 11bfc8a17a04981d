"""What the MinIO SDK suites and mint found against Cairn (issue 12), with the Python clients: minio-py (the
`minio` package, whose functional tests a user switching from MinIO runs first) and boto3.

Requests that ask for something Cairn does not do (object lock, encryption, MinIO's extensions) are refused
with NotImplemented, and each test reads back that nothing was stored.
"""
import io
import uuid
from datetime import datetime, timedelta, timezone

import botocore
import pytest
from minio import Minio
from minio.commonconfig import ENABLED
from minio.error import S3Error
from minio.versioningconfig import VersioningConfig


@pytest.fixture
def mc(cairn):
    return Minio(f"{cairn.host}:{cairn.port}", cairn.access_key, cairn.secret_key, secure=False)


def code_of(e):
    return e.value.response["Error"]["Code"]


def test_minio_py_object_lock_bucket(mc):
    name = "py-lock-" + uuid.uuid4().hex[:12]
    mc.make_bucket(name, object_lock=True)
    assert mc.get_bucket_versioning(name).status == ENABLED
    assert mc.get_object_lock_config(name).mode is None  # enabled, no default retention
    mc.remove_bucket(name)


def test_minio_py_versioning_exclusions_refused(mc, bucket):
    # MinIO's extension (prefixes left unversioned): ignoring it would version what the user excluded.
    with pytest.raises(S3Error) as e:
        mc.set_bucket_versioning(bucket, VersioningConfig(ENABLED, exclude_folders=True, excluded_prefixes=["tmp/"]))
    assert e.value.code == "NotImplemented"
    assert mc.get_bucket_versioning(bucket).status is None  # never configured
    mc.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
    assert mc.get_bucket_versioning(bucket).status == ENABLED


def test_minio_py_snowball_refused(mc, bucket):
    # MinIO would unpack the tar into objects; stored as it is it would be one object nobody asked for.
    from minio.commonconfig import SnowballObject
    with pytest.raises(S3Error) as e:
        mc.upload_snowball_objects(bucket, [SnowballObject("a.txt", data=io.BytesIO(b"a"), length=1)])
    assert e.value.code == "NotImplemented"
    assert list(mc.list_objects(bucket, recursive=True)) == []


def test_minio_py_post_policy_location(mc, bucket, cairn):
    import requests
    from minio.datatypes import PostPolicy
    policy = PostPolicy(bucket, datetime.now(timezone.utc) + timedelta(hours=1))
    policy.add_equals_condition("key", "dir/a b.txt")
    form = mc.presigned_post_policy(policy)
    res = requests.post(f"{cairn.endpoint}/{bucket}", data={**form, "key": "dir/a b.txt"},
                        files={"file": ("a.txt", b"posted")})
    assert res.status_code == 204
    assert res.headers["Location"] == f"{cairn.endpoint}/{bucket}/dir/a%20b.txt"


def test_boto3_encryption_refused_and_lock_needs_a_lock_bucket(s3, bucket):
    until = datetime.now(timezone.utc) + timedelta(days=1)
    for extra, code in (({"ServerSideEncryption": "AES256"}, "NotImplemented"),
                        ({"ServerSideEncryption": "aws:kms"}, "NotImplemented"),
                        ({"ObjectLockLegalHoldStatus": "ON"}, "InvalidRequest"),
                        ({"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": until}, "InvalidRequest")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_object(Bucket=bucket, Key="protected", Body=b"x", **extra)
        assert code_of(e) == code, extra
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=bucket, Key="protected")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_boto3_copy_gets_crc64nvme_by_default(cairn, bucket):
    plain = cairn.client(request_checksum_calculation="when_required", response_checksum_validation="when_required")
    plain.put_object(Bucket=bucket, Key="src", Body=b"no checksum here")
    assert "ChecksumType" not in plain.head_object(Bucket=bucket, Key="src", ChecksumMode="ENABLED")
    plain.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    head = plain.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")
    assert head["ChecksumType"] == "FULL_OBJECT" and head.get("ChecksumCRC64NVME")


def test_boto3_conditional_delete(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="k", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert code_of(e) == "PreconditionFailed"
    assert s3.head_object(Bucket=bucket, Key="k")["ETag"] == etag
    s3.delete_object(Bucket=bucket, Key="k", IfMatch=etag)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="k", IfMatch="*")
    assert code_of(e) == "NoSuchKey"


def test_boto3_errors_as_s3_words_them(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket="py-no-such-bucket-" + uuid.uuid4().hex[:8])
    assert e.value.response["Error"]["Message"] == "The specified bucket does not exist"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tags})
    assert code_of(e) == "BadRequest"
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="missing", VersionId="3a7c1e2f-0b4d-4c5e-8f90-a1b2c3d4e5f6",
                                 ObjectAttributes=["ETag"])
    assert code_of(e) == "NoSuchVersion"
