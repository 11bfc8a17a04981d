"""minio-py's MinioAdmin on a bucket's hard quota (Cairn's api/quota.ts, MinIO's set-bucket-quota and
get-bucket-quota): bucket_quota_set, bucket_quota_get and bucket_quota_clear round-trip; a write over the quota
is refused with XMinioAdminBucketQuotaExceeded for boto3 and minio-py alike and stores nothing; a user without
the admin actions is refused and changes nothing."""
import io
import json

import pytest
from botocore.exceptions import ClientError
from minio import Minio
from minio.credentials import StaticProvider
from minio.error import MinioAdminException, S3Error
from minio.minioadmin import MinioAdmin


def admin_for(cairn, key: str, secret: str) -> MinioAdmin:
    return MinioAdmin(endpoint=f"{cairn.host}:{cairn.port}", credentials=StaticProvider(key, secret),
                      secure=False, region="us-east-1")


def test_quota_set_get_clear_and_enforced(cairn, bucket):
    admin = admin_for(cairn, cairn.access_key, cairn.secret_key)
    s3 = cairn.client()
    mc = Minio(f"{cairn.host}:{cairn.port}", access_key=cairn.access_key, secret_key=cairn.secret_key,
               secure=False, region="us-east-1")

    admin.bucket_quota_set(bucket, 10_000)
    got = json.loads(admin.bucket_quota_get(bucket))
    assert (got["quota"], got["quotatype"]) == (10_000, "hard")

    s3.put_object(Bucket=bucket, Key="first", Body=b"x" * 6000)
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="second", Body=b"y" * 5000)
    assert refused.value.response["Error"]["Code"] == "XMinioAdminBucketQuotaExceeded"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(S3Error) as refused_mc:
        mc.put_object(bucket, "third", io.BytesIO(b"z" * 5000), 5000)
    assert refused_mc.value.code == "XMinioAdminBucketQuotaExceeded"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["first"]
    assert json.loads(admin.bucket_quota_get(bucket))["cairn"] == {"usage": 6000}

    admin.bucket_quota_clear(bucket)
    assert json.loads(admin.bucket_quota_get(bucket))["quota"] == 0
    mc.put_object(bucket, "third", io.BytesIO(b"z" * 5000), 5000)
    assert s3.head_object(Bucket=bucket, Key="third")["ContentLength"] == 5000


def test_quota_needs_the_admin_actions(cairn, bucket):
    root = admin_for(cairn, cairn.access_key, cairn.secret_key)
    root.user_add("pyquotauser", "pyquotauser-secret")
    try:
        other = admin_for(cairn, "pyquotauser", "pyquotauser-secret")
        with pytest.raises(MinioAdminException) as denied:
            other.bucket_quota_set(bucket, 1)
        assert denied.value._code == "403"
        with pytest.raises(MinioAdminException):
            other.bucket_quota_get(bucket)
        assert json.loads(root.bucket_quota_get(bucket))["quota"] == 0
    finally:
        root.user_remove("pyquotauser")
