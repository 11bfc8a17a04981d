"""boto3 against a running Cairn: buckets, small and multipart uploads, listing, presigned URLs, copy, delete.

Each test runs twice (fixture `s3`): boto3 at its defaults (CRC32 trailers, aws-chunked bodies) and with
checksums only when required.
"""
import hashlib
import os

import botocore
import pytest
import requests
from boto3.s3.transfer import TransferConfig

from conftest import random_file

BIG_MB = int(os.environ.get("CAIRN_BIG_MB", "2100"))  # "multi-GB": a little over 2 GiB by default


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def test_bucket_lifecycle(s3, cairn):
    name = "py-life-" + os.urandom(4).hex()
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    # us-east-1 keeps AWS's legacy answer: re-creating a bucket you own succeeds and changes nothing.
    s3.create_bucket(Bucket=name)
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"x"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert e.value.response["Error"]["Code"] == "BucketNotEmpty"
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert e.value.response["Error"]["Code"] == "404"


def test_invalid_bucket_name(s3):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket="Bad_Name")
    assert e.value.response["Error"]["Code"] == "InvalidBucketName"


@pytest.mark.parametrize("size", [0, 1, 1000, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 5 * (1 << 20) + 7])
def test_put_get_bytes(s3, bucket, size):
    body = os.urandom(size)
    put = s3.put_object(Bucket=bucket, Key=f"obj-{size}", Body=body, Metadata={"origin": "pytest"},
                        ContentType="application/x-test")
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    got = s3.get_object(Bucket=bucket, Key=f"obj-{size}")
    assert got["Body"].read() == body
    assert got["ContentLength"] == size
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"origin": "pytest"}
    head = s3.head_object(Bucket=bucket, Key=f"obj-{size}")
    assert head["ETag"] == put["ETag"]


def test_ranged_get(s3, bucket):
    body = os.urandom(3 * (1 << 20) + 5)
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    for rng, expect in [("bytes=0-0", body[:1]), ("bytes=100-", body[100:]), ("bytes=-10", body[-10:]),
                        ("bytes=1048570-2097160", body[1048570:2097161]),
                        ("bytes=3145720-99999999", body[3145720:])]:
        got = s3.get_object(Bucket=bucket, Key="r", Range=rng)
        assert got["Body"].read() == expect, rng
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=99999999-")
    assert e.value.response["Error"]["Code"] == "InvalidRange"


def test_multipart_multi_gb(cairn, bucket, tmp_path):
    """upload_file/download_file with multipart: a file over 2 GiB, byte-exact both ways."""
    client = cairn.client()
    src = random_file(tmp_path / "big.bin", BIG_MB << 20, seed=7)
    cfg = TransferConfig(multipart_threshold=64 << 20, multipart_chunksize=64 << 20, max_concurrency=4)
    client.upload_file(str(src), bucket, "big/file.bin", Config=cfg)
    head = client.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ContentLength"] == src.stat().st_size
    assert head["ETag"].strip('"').endswith("-%d" % -(-src.stat().st_size // (64 << 20)))
    dst = tmp_path / "back.bin"
    client.download_file(bucket, "big/file.bin", str(dst), Config=cfg)
    assert sha256_file(dst) == sha256_file(src)
    src.unlink()
    dst.unlink()


def test_multipart_low_level(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    parts, data = [], b""
    for n in (1, 2, 3):
        chunk = os.urandom(5 << 20 if n < 3 else 1234)
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=chunk)
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
        data += chunk
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=up["UploadId"])
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3]
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix="m")["Uploads"]
    assert [u["UploadId"] for u in uploads] == [up["UploadId"]]
    # Invisible until completed (HEAD has no body: botocore reports the status as the code).
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=bucket, Key="mp")
    assert e.value.response["Error"]["Code"] == "404"
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": parts})
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == data
    # Abort of another upload leaves nothing behind.
    up2 = s3.create_multipart_upload(Bucket=bucket, Key="gone")
    s3.upload_part(Bucket=bucket, Key="gone", UploadId=up2["UploadId"], PartNumber=1, Body=b"abc")
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=up2["UploadId"])
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_list_objects(s3, bucket):
    keys = ["a", "a/b", "a/c/d", "b/", "b/x", "c d", "é/ü", "z"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    allkeys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert allkeys == sorted(keys, key=lambda k: k.encode())
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a", "c d", "z"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/", "é/"]
    # Pagination with continuation tokens returns every key once.
    seen, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=bucket, MaxKeys=3, **kw)
        seen += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == allkeys
    v1 = s3.list_objects(Bucket=bucket, Prefix="a/", Marker="a/b")
    assert [o["Key"] for o in v1["Contents"]] == ["a/c/d"]


def test_presigned_get_and_put(s3, bucket):
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300)
    body = os.urandom(70_000)
    r = requests.put(put_url, data=body)
    assert r.status_code == 200, r.text
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300)
    r = requests.get(get_url)
    assert r.status_code == 200 and r.content == body
    # A tampered signature is refused and stores nothing.
    bad = put_url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    r = requests.put(bad.replace("/pre?", "/pre2?"), data=b"nope")
    assert r.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in r.content
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=bucket, Key="pre2")
    assert e.value.response["Error"]["Code"] == "404"


def test_copy_and_delete(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"hello", Metadata={"a": "1"})
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"hello" and got["Metadata"] == {"a": "1"}
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "dst"},
                   Metadata={"b": "2"}, MetadataDirective="REPLACE")
    assert s3.head_object(Bucket=bucket, Key="dst")["Metadata"] == {"b": "2"}
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "src"}, {"Key": "dst"}, {"Key": "none"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["dst", "none", "src"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_wrong_checksum_stores_nothing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"original")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="keep", Body=b"replacement",
                      ChecksumSHA256="47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    # AWS: 400 BadDigest, "The SHA256 you specified did not match the calculated checksum."
    assert e.value.response["Error"]["Code"] == "BadDigest"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"original"


def test_versioning(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="v", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="v", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket=bucket, Key="v", VersionId=v1)["Body"].read() == b"one"
    d = s3.delete_object(Bucket=bucket, Key="v")
    assert d["DeleteMarker"] is True
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="v")
    # The latest version is a delete marker: 404 NoSuchKey, saying so in x-amz-delete-marker.
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    vs = s3.list_object_versions(Bucket=bucket)
    assert len(vs["Versions"]) == 2 and len(vs["DeleteMarkers"]) == 1
    s3.delete_object(Bucket=bucket, Key="v", VersionId=d["VersionId"])
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == b"two"


def test_odd_keys_listed_and_versions_paged(s3, bucket):
    """botocore asks for encoding-type=url and decodes the answer: keys XML 1.0 cannot carry (control
    characters) come back intact, as do '+', spaces and non-ASCII; ListObjectVersions pages with markers."""
    keys = ["ctl\x01key", "tab\tkey", "a+b", "sp ace/x", "é/ü"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == sorted(keys, key=lambda k: k.encode())
    rolled = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["sp ace/", "é/"]
    assert s3.get_object(Bucket=bucket, Key="ctl\x01key")["Body"].read() == b"ctl\x01key"

    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket=bucket, Key="v", Body=str(i).encode())["VersionId"] for i in range(3)]
    ids.append(s3.delete_object(Bucket=bucket, Key="v")["VersionId"])
    pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="v",
                                                                      PaginationConfig={"PageSize": 3}))
    assert len(pages) == 2 and pages[0]["IsTruncated"] and not pages[1]["IsTruncated"]
    listed = [e["VersionId"] for p in pages for e in p.get("Versions", []) + p.get("DeleteMarkers", [])]
    assert sorted(listed) == sorted(ids) and len(listed) == len(ids)  # each once
    latest = [e["VersionId"] for p in pages for e in p.get("DeleteMarkers", []) if e["IsLatest"]]
    assert latest == [ids[-1]]
