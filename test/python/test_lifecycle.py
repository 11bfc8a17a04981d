"""Bucket lifecycle configuration through boto3: put, get (as put, an ID given to a rule without one), delete,
x-amz-expiration on PUT and HEAD (boto3's `Expiration`), and bad configurations refused with the S3 error while
the previous configuration stays."""
import datetime
import re

import botocore
import pytest


def error_code(e: botocore.exceptions.ClientError) -> str:
    return e.response["Error"]["Code"]


def test_put_get_delete(cairn, bucket):
    s3 = cairn.client()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error_code(e.value) == "NoSuchLifecycleConfiguration"

    rules = [
        {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 30}},
        {"ID": "old-versions", "Filter": {"And": {"Prefix": "data/", "Tags": [{"Key": "tier", "Value": "cold"}]}},
         "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 10, "NewerNoncurrentVersions": 2}},
        {"ID": "uploads", "Filter": {}, "Status": "Disabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
        {"ID": "markers", "Prefix": "", "Status": "Enabled", "Expiration": {"ExpiredObjectDeleteMarker": True}},
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == rules

    put = s3.put_object(Bucket=bucket, Key="logs/today", Body=b"x")
    m = re.fullmatch(r'expiry-date="([^"]+)", rule-id="logs"', put["Expiration"])
    assert m, put["Expiration"]
    expiry = datetime.datetime.strptime(m.group(1), "%a, %d %b %Y %H:%M:%S GMT")
    # AWS's rounding: 30 days after the write, then up to the next midnight UTC.
    assert (expiry.hour, expiry.minute, expiry.second) == (0, 0, 0)
    assert 30 <= (expiry - datetime.datetime.utcnow()).days <= 31
    assert s3.head_object(Bucket=bucket, Key="logs/today")["Expiration"] == put["Expiration"]
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="other", Body=b"x")

    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [{"Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
                                                          "Expiration": {"Days": 1}}]})
    (generated,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert len(generated["ID"]) == 48

    assert s3.delete_bucket_lifecycle(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error_code(e.value) == "NoSuchLifecycleConfiguration"
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="logs/today")


@pytest.mark.parametrize("rule, code", [
    ({"ID": "a" * 256, "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}, "InvalidArgument"),
    ({"ID": "r", "Filter": {}, "Status": "enabled", "Expiration": {"Days": 1}}, "MalformedXML"),
    ({"ID": "r", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 0}}, "InvalidArgument"),
    ({"ID": "r", "Filter": {}, "Status": "Enabled",
      "Expiration": {"Date": datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)}}, "InvalidArgument"),
    ({"ID": "r", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": True}},
     "MalformedXML"),
    ({"ID": "r", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Status": "Enabled",
      "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}, "InvalidRequest"),
    # A transition names a remote tier (none is named GLACIER here): test_tiers.py has the ones that exist.
    ({"ID": "r", "Filter": {}, "Status": "Enabled", "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]},
     "InvalidStorageClass"),
])
def test_bad_configurations_change_nothing(cairn, bucket, rule, code):
    s3 = cairn.client()
    kept = [{"ID": "kept", "Filter": {"Prefix": "k/"}, "Status": "Enabled", "Expiration": {"Days": 5}}]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": kept})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule]})
    assert error_code(e.value) == code
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == kept


def test_duplicate_ids_refused(cairn, bucket):
    s3 = cairn.client()
    rule = {"ID": "same", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule, rule]})
    assert error_code(e.value) == "InvalidArgument"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error_code(e.value) == "NoSuchLifecycleConfiguration"
