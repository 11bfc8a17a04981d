"""Identity and access with real clients: boto3 `iam` and `sts`, the AWS CLI's `aws iam` / `aws sts`, and
minio-py's MinioAdmin (MinIO's admin API with its encrypted bodies). What they create is then used through S3."""
import json
import os
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from minio import Minio
from minio.credentials import AssumeRoleProvider, StaticProvider
from minio.error import MinioAdminException, S3Error
from minio.minioadmin import MinioAdmin

from conftest import venv_bin
from test_cli_clients import run


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def client(cairn, service: str, key: str | None = None, secret: str | None = None, token: str | None = None):
    return boto3.client(service, endpoint_url=cairn.endpoint, region_name=cairn.region,
                        aws_access_key_id=key or cairn.access_key, aws_secret_access_key=secret or cairn.secret_key,
                        aws_session_token=token, config=Config(s3={"addressing_style": "path"},
                                                               retries={"max_attempts": 1}))


def code(e: ClientError) -> str:
    return e.response["Error"]["Code"]


READ_BUCKET = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::*"]}]}


# ----------------------------------------------------------------------------------------------- boto3
def test_boto3_iam_user_keys_policies(cairn, bucket):
    iam = client(cairn, "iam")
    user = name("py-user")
    iam.create_user(UserName=user, Path="/team/")
    assert iam.get_user(UserName=user)["User"]["Arn"] == f"arn:aws:iam:::user/team/{user}"
    key = iam.create_access_key(UserName=user)["AccessKey"]
    s3 = client(cairn, "s3", key["AccessKeyId"], key["SecretAccessKey"])
    cairn.client().put_object(Bucket=bucket, Key="k", Body=b"v")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert code(e.value) == "AccessDenied"
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps(READ_BUCKET))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    # boto3 decodes the URL-encoded document IAM sends back into a dict.
    assert iam.get_user_policy(UserName=user, PolicyName="read")["PolicyDocument"] == READ_BUCKET
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["read"]
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/team/")["Users"]] == [user]
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName=user, PolicyName="bad", PolicyDocument='{"Statement": [{"Effect": "Allow"}]}')
    assert code(e.value) == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=user)
    assert code(e.value) == "DeleteConflict"
    iam.delete_user_policy(UserName=user, PolicyName="read")
    iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=user)
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName=user)
    assert code(e.value) == "NoSuchEntity"


def test_boto3_groups_and_managed_policies(cairn, bucket):
    iam = client(cairn, "iam")
    user, group = name("py-member"), name("py-group")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    arn = iam.create_policy(PolicyName=name("py-read"), PolicyDocument=json.dumps(READ_BUCKET))["Policy"]["Arn"]
    iam.create_group(GroupName=group)
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    iam.add_user_to_group(GroupName=group, UserName=user)
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    s3 = client(cairn, "s3", key["AccessKeyId"], key["SecretAccessKey"])
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    version = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
        SetAsDefault=True)["PolicyVersion"]["VersionId"]
    assert version == "v2"
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket)
    assert code(e.value) == "AccessDenied"
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [group]


def test_boto3_sts_assume_role(cairn, bucket):
    iam = client(cairn, "iam")
    user, role = name("py-assumer"), name("py-role")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam:::user/{user}"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=role, PolicyName="read", PolicyDocument=json.dumps(READ_BUCKET))
    sts = client(cairn, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam:::user/{user}"
    creds = sts.assume_role(RoleArn=f"arn:aws:iam:::role/{role}", RoleSessionName="py",
                            DurationSeconds=900)["Credentials"]
    s3 = client(cairn, "s3", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    cairn.client().put_object(Bucket=bucket, Key="doc", Body=b"data")
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"data"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="doc", Body=b"no")
    assert code(e.value) == "AccessDenied"
    # The session token never shows in the server's log.
    assert creds["SessionToken"] not in cairn.log.read_text(errors="replace")
    assert creds["SecretAccessKey"] not in cairn.log.read_text(errors="replace")


def test_boto3_sts_session_tags_and_source_identity(cairn, bucket):
    """Tags and a source identity through boto3: the trust policy allows them (sts:TagSession,
    sts:SetSourceIdentity); the role reads only under the prefix its session's Project tag names, and only
    with a source identity; bad tags are refused with STS's codes and no credentials."""
    iam = client(cairn, "iam")
    user, role = name("py-tagger"), name("py-abac")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam:::user/{user}"},
         "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]}]}
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    by_tag = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/${{aws:PrincipalTag/Project}}/*",
         "Condition": {"StringEquals": {"aws:SourceIdentity": user}}}]}
    iam.put_role_policy(RoleName=role, PolicyName="by-tag", PolicyDocument=json.dumps(by_tag))
    for k in ("alpha/doc", "beta/doc"):
        cairn.client().put_object(Bucket=bucket, Key=k, Body=k.encode())
    sts = client(cairn, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    arn = f"arn:aws:iam:::role/{role}"
    out = sts.assume_role(RoleArn=arn, RoleSessionName="py", Tags=[{"Key": "Project", "Value": "alpha"}],
                          TransitiveTagKeys=["Project"], SourceIdentity=user)
    assert out["SourceIdentity"] == user and out["PackedPolicySize"] > 0
    c = out["Credentials"]
    s3 = client(cairn, "s3", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert s3.get_object(Bucket=bucket, Key="alpha/doc")["Body"].read() == b"alpha/doc"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="beta/doc")
    assert code(e.value) == "AccessDenied"
    bad = [({"Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(51)]}, "ValidationError"),
           ({"Tags": [{"Key": "k" * 129, "Value": "v"}]}, "ValidationError"),
           ({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]}, "ValidationError"),
           ({"SourceIdentity": "aws:me"}, "ValidationError"),
           ({"Tags": [{"Key": f"{i:03}" + "k" * 125, "Value": "v" * 256} for i in range(10)]}, "PackedPolicyTooLarge")]
    for extra, expected in bad:
        with pytest.raises(ClientError) as e:
            sts.assume_role(RoleArn=arn, RoleSessionName="py", **extra)
        assert code(e.value) == expected, extra


def test_boto3_iam_resource_tags(cairn):
    """Tags of users, roles and OpenID Connect providers through boto3, and identity policies that read them:
    a manager may read only users and providers tagged team=blue, and tag them only with `env`; what is
    refused changes nothing, and bad tags get IAM's codes."""
    iam = client(cairn, "iam")
    manager, blue, red, role = name("py-manager"), name("py-blue"), name("py-red"), name("py-tagged-role")
    iam.create_user(UserName=blue, Tags=[{"Key": "team", "Value": "blue"}])
    iam.create_user(UserName=red, Tags=[{"Key": "team", "Value": "red"}])
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam:::root"}, "Action": "sts:AssumeRole"}]}),
        Tags=[{"Key": "team", "Value": "blue"}])
    iam.tag_role(RoleName=role, Tags=[{"Key": "Team", "Value": "green"}])  # keys without case: replaces team
    assert iam.list_role_tags(RoleName=role)["Tags"] == [{"Key": "Team", "Value": "green"}]
    url = f"https://{name('idp')}.example.com"
    provider = iam.create_open_id_connect_provider(
        Url=url, ClientIDList=["app"], Tags=[{"Key": "team", "Value": "blue"}])["OpenIDConnectProviderArn"]
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=provider, Tags=[{"Key": "env", "Value": "dev"}])
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=provider, TagKeys=["ENV"])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=provider)["Tags"] == [
        {"Key": "team", "Value": "blue"}]

    blue_only = {"StringEquals": {"aws:ResourceTag/team": "blue"}}
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:GetUser", "iam:ListUserTags", "iam:GetOpenIDConnectProvider"],
         "Resource": "*", "Condition": blue_only},
        {"Effect": "Allow", "Action": ["iam:TagUser", "iam:TagOpenIDConnectProvider"], "Resource": "*",
         "Condition": {**blue_only, "ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}}]}
    iam.create_user(UserName=manager)
    iam.put_user_policy(UserName=manager, PolicyName="blue", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=manager)["AccessKey"]
    as_manager = client(cairn, "iam", key["AccessKeyId"], key["SecretAccessKey"])
    assert as_manager.get_user(UserName=blue)["User"]["UserName"] == blue
    assert as_manager.get_open_id_connect_provider(OpenIDConnectProviderArn=provider)["ClientIDList"] == ["app"]
    as_manager.tag_user(UserName=blue, Tags=[{"Key": "env", "Value": "prod"}])
    refused = [lambda: as_manager.get_user(UserName=red),
               lambda: as_manager.tag_user(UserName=red, Tags=[{"Key": "env", "Value": "x"}]),
               lambda: as_manager.tag_user(UserName=blue, Tags=[{"Key": "team", "Value": "red"}]),
               lambda: as_manager.untag_user(UserName=blue, TagKeys=["env"]),
               lambda: as_manager.tag_open_id_connect_provider(
                   OpenIDConnectProviderArn=provider, Tags=[{"Key": "team", "Value": "red"}])]
    for call in refused:
        with pytest.raises(ClientError) as e:
            call()
        assert code(e.value) == "AccessDenied"
    assert {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=blue)["Tags"]} == {"team": "blue", "env": "prod"}
    assert iam.list_user_tags(UserName=red)["Tags"] == [{"Key": "team", "Value": "red"}]
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=provider)["Tags"] == [
        {"Key": "team", "Value": "blue"}]

    bad = [([{"Key": "aws:x", "Value": "v"}], "InvalidInput"),
           ([{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}], "InvalidInput"),
           ([{"Key": "k" * 129, "Value": "v"}], "ValidationError"),
           ([{"Key": f"k{i}", "Value": "v"} for i in range(50)], "LimitExceeded")]  # 2 tags already: 52
    for tags, expected in bad:
        for call in (lambda: iam.tag_user(UserName=blue, Tags=tags),
                     lambda: iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=provider, Tags=tags)):
            with pytest.raises(ClientError) as e:
                call()
            assert code(e.value) == expected, tags
    assert len(iam.list_user_tags(UserName=blue)["Tags"]) == 2
    assert len(iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=provider)["Tags"]) == 1
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider)


def test_boto3_list_tags_paging(cairn):
    """ListUserTags and ListRoleTags page with MaxItems and Marker, sorted by key (boto3's paginators walk
    them); a MaxItems out of 1..1000 or a Marker Cairn did not give is ValidationError and changes nothing."""
    iam = client(cairn, "iam")
    user, role = name("py-paged-user"), name("py-paged-role")
    tags = [{"Key": k, "Value": v} for k, v in (("b", "2"), ("A", "1"), ("日本", "y"), ("c", "3"), ("Équipe", "x"))]
    keys = ["A", "b", "c", "Équipe", "日本"]
    iam.create_user(UserName=user, Tags=tags)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam:::root"}, "Action": "sts:AssumeRole"}]}), Tags=tags)
    lists = {"list_user_tags": {"UserName": user}, "list_role_tags": {"RoleName": role}}
    for op, args in lists.items():
        first = getattr(iam, op)(MaxItems=2, **args)
        assert ([t["Key"] for t in first["Tags"]], first["IsTruncated"]) == (["A", "b"], True)
        rest = getattr(iam, op)(MaxItems=3, Marker=first["Marker"], **args)
        assert ([t["Key"] for t in rest["Tags"]], rest["IsTruncated"]) == (["c", "Équipe", "日本"], False)
        assert "Marker" not in rest
        pages = list(iam.get_paginator(op).paginate(PaginationConfig={"PageSize": 2}, **args))
        assert [[t["Key"] for t in p["Tags"]] for p in pages] == [["A", "b"], ["c", "Équipe"], ["日本"]]

    # botocore would refuse some of these itself: send them as they are.
    raw = boto3.client("iam", endpoint_url=cairn.endpoint, region_name=cairn.region,
                       aws_access_key_id=cairn.access_key, aws_secret_access_key=cairn.secret_key,
                       config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    for op, args in lists.items():
        for bad in ({"MaxItems": 0}, {"MaxItems": 1001}, {"Marker": ""}, {"Marker": "not a marker!"}):
            with pytest.raises(ClientError) as e:
                getattr(raw, op)(**bad, **args)
            assert code(e.value) == "ValidationError", (op, bad)
        assert [t["Key"] for t in getattr(iam, op)(**args)["Tags"]] == keys
    iam.delete_user(UserName=user)
    iam.delete_role(RoleName=role)


def test_boto3_create_bucket_with_tags(cairn):
    """CreateBucketConfiguration Tags through boto3: the bucket is made with its tags; a user needs
    s3:TagResource besides s3:CreateBucket to give them (else AccessDenied and no bucket); bad tags are
    InvalidTag and make no bucket."""
    s3 = cairn.client()
    tagged = name("py-tagged")
    s3.create_bucket(Bucket=tagged, CreateBucketConfiguration={"Tags": [{"Key": "team", "Value": "blue"}]})
    assert s3.get_bucket_tagging(Bucket=tagged)["TagSet"] == [{"Key": "team", "Value": "blue"}]
    iam = client(cairn, "iam")
    user = name("py-creator")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="create", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:ListAllMyBuckets"], "Resource": "*"}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    as_user = client(cairn, "s3", key["AccessKeyId"], key["SecretAccessKey"])
    untaggable = name("py-untaggable")
    with pytest.raises(ClientError) as e:
        as_user.create_bucket(Bucket=untaggable, CreateBucketConfiguration={"Tags": [{"Key": "a", "Value": "b"}]})
    assert code(e.value) == "AccessDenied"
    plain = name("py-plain")
    as_user.create_bucket(Bucket=plain)
    for tags in ([{"Key": "aws:x", "Value": "v"}], [{"Key": f"k{i}", "Value": "v"} for i in range(51)],
                 [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]):
        with pytest.raises(ClientError) as e:
            s3.create_bucket(Bucket=untaggable, CreateBucketConfiguration={"Tags": tags})
        assert code(e.value) == "InvalidTag"
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert plain in names and untaggable not in names
    for b in (tagged, plain):
        s3.delete_bucket(Bucket=b)


# --------------------------------------------------------------------------------------------- AWS CLI
@pytest.fixture
def aws_cli(cairn, tmp_path):
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\n")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=cairn.access_key, AWS_SECRET_ACCESS_KEY=cairn.secret_key,
               AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    base = [venv_bin("aws"), "--endpoint-url", cairn.endpoint, "--output", "json"]
    return lambda *args: json.loads(run(base + list(args), env=env) or "{}")


def test_aws_cli_iam_and_sts(aws_cli, tmp_path):
    user, role = name("cli-user"), name("cli-role")
    assert aws_cli("iam", "create-user", "--user-name", user)["User"]["UserName"] == user
    key = aws_cli("iam", "create-access-key", "--user-name", user)["AccessKey"]
    assert [k["AccessKeyId"] for k in aws_cli("iam", "list-access-keys", "--user-name", user)["AccessKeyMetadata"]] \
        == [key["AccessKeyId"]]
    aws_cli("iam", "attach-user-policy", "--user-name", user, "--policy-arn", "arn:aws:iam:::policy/readonly")
    attached = aws_cli("iam", "list-attached-user-policies", "--user-name", user)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["readonly"]
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam:::root"}, "Action": "sts:AssumeRole"}]}))
    aws_cli("iam", "create-role", "--role-name", role, "--assume-role-policy-document", f"file://{trust}")
    assert aws_cli("sts", "get-caller-identity")["Arn"] == "arn:aws:iam:::root"
    assumed = aws_cli("sts", "assume-role", "--role-arn", f"arn:aws:iam:::role/{role}",
                      "--role-session-name", "cli")
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts:::assumed-role/{role}/cli"


# -------------------------------------------------------------------------------------- minio-py admin
@pytest.fixture
def admin(cairn):
    return MinioAdmin(endpoint=f"{cairn.host}:{cairn.port}",
                      credentials=StaticProvider(cairn.access_key, cairn.secret_key), secure=False, region="us-east-1")


def test_minio_admin_users_groups_policies(admin, cairn, bucket):
    user = name("mu")
    secret = "minio-user-secret-1"
    admin.user_add(user, secret)
    assert json.loads(admin.user_list())[user]["status"] == "enabled"
    cairn.client().put_object(Bucket=bucket, Key="obj", Body=b"x")
    mc = Minio(f"{cairn.host}:{cairn.port}", access_key=user, secret_key=secret, secure=False, region="us-east-1")
    with pytest.raises(S3Error):
        mc.stat_object(bucket, "obj")
    policy = name("mpol")
    admin.policy_add(policy, policy={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]}]})
    assert policy in json.loads(admin.policy_list())
    admin.attach_policy([policy], user=user)
    assert mc.stat_object(bucket, "obj").size == 1
    assert json.loads(admin.user_info(user))["policyName"] == policy
    admin.user_disable(user)
    with pytest.raises(S3Error):
        mc.stat_object(bucket, "obj")
    admin.user_enable(user)
    admin.detach_policy([policy], user=user)
    group = name("mg")
    admin.group_add(group, [user])
    admin.policy_set("readonly", group=group)
    info = json.loads(admin.group_info(group))
    assert info["members"] == [user] and info["policy"] == "readonly"
    assert mc.stat_object(bucket, "obj").size == 1
    assert group in json.loads(admin.group_list())
    admin.group_remove(group, [user])
    with pytest.raises(S3Error):
        mc.stat_object(bucket, "obj")
    with pytest.raises(MinioAdminException) as e:
        admin.policy_add(name("bad"), policy={"Statement": [{"Effect": "Maybe"}]})
    assert e.value._code == "400"
    admin.user_remove(user)
    assert user not in json.loads(admin.user_list())


def test_minio_admin_service_accounts(admin, cairn, bucket):
    user = name("msa")
    admin.user_add(user, "minio-user-secret-2")
    admin.attach_policy(["readwrite"], user=user)
    user_admin = MinioAdmin(endpoint=f"{cairn.host}:{cairn.port}",
                            credentials=StaticProvider(user, "minio-user-secret-2"), secure=False, region="us-east-1")
    narrowed = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]}]}
    created = json.loads(user_admin.add_service_account(policy=narrowed, name="reader"))["credentials"]
    cairn.client().put_object(Bucket=bucket, Key="s", Body=b"sa")
    sa = Minio(f"{cairn.host}:{cairn.port}", access_key=created["accessKey"], secret_key=created["secretKey"],
               secure=False, region="us-east-1")
    assert sa.get_object(bucket, "s").read() == b"sa"
    with pytest.raises(S3Error):
        sa.put_object(bucket, "t", __import__("io").BytesIO(b"no"), 2)   # the parent could, the policy narrows it
    info = json.loads(user_admin.get_service_account(created["accessKey"]))
    assert info["parentUser"] == user.lower() and info["impliedPolicy"] is False
    listed = json.loads(admin.list_service_account(user))["accounts"]
    assert [a["accessKey"] for a in listed] == [created["accessKey"]]
    admin.user_disable(user)   # the parent disabled: its service account stops working at once
    with pytest.raises(S3Error):
        sa.get_object(bucket, "s")
    admin.user_enable(user)
    admin.delete_service_account(created["accessKey"])
    with pytest.raises(S3Error):
        sa.get_object(bucket, "s")


def test_minio_admin_service_accounts_from_sessions(admin, cairn, bucket):
    """Temporary credentials (the console logs in with them) make service accounts for the user or root they stand
    for, as MinIO's do; a session narrowed by a session policy may not (the account would have all the rights)."""
    def session_admin(policy=None):
        creds = AssumeRoleProvider(sts_endpoint=cairn.endpoint, access_key=cairn.access_key,
                                   secret_key=cairn.secret_key, policy=policy, region="us-east-1")
        return MinioAdmin(endpoint=f"{cairn.host}:{cairn.port}", credentials=creds, secure=False, region="us-east-1")
    root_session = session_admin()
    made = json.loads(root_session.add_service_account(name="from-session"))["credentials"]
    listed = json.loads(root_session.list_service_account(cairn.access_key))["accounts"]
    assert (made["accessKey"], cairn.access_key) in [(a["accessKey"], a["parentUser"]) for a in listed]
    cairn.client().put_object(Bucket=bucket, Key="s", Body=b"root's")
    sa = client(cairn, "s3", made["accessKey"], made["secretKey"])
    assert sa.get_object(Bucket=bucket, Key="s")["Body"].read() == b"root's"

    before = json.loads(admin.list_service_account(cairn.access_key))["accounts"]
    with pytest.raises(MinioAdminException) as e:
        session_admin(json.dumps(READ_BUCKET)).add_service_account(name="wider")
    assert e.value._code == "403" and "AccessDenied" in e.value._body
    assert json.loads(admin.list_service_account(cairn.access_key))["accounts"] == before

    # Nor may it touch root's existing accounts: its policy, not its parent, decides (it allows no admin action).
    narrowed = session_admin(json.dumps(READ_BUCKET))
    info_before = json.loads(admin.get_service_account(made["accessKey"]))
    attempts = [
        lambda: narrowed.update_service_account(access_key=made["accessKey"], status="off"),
        lambda: narrowed.update_service_account(access_key=made["accessKey"], policy=READ_BUCKET),
        lambda: narrowed.delete_service_account(made["accessKey"]),
        lambda: narrowed.get_service_account(made["accessKey"]),
        lambda: narrowed.list_service_account(cairn.access_key),
    ]
    for attempt in attempts:
        with pytest.raises(MinioAdminException) as e:
            attempt()
        assert e.value._code == "403" and "AccessDenied" in e.value._body
    assert json.loads(admin.get_service_account(made["accessKey"])) == info_before
    assert json.loads(admin.list_service_account(cairn.access_key))["accounts"] == before
    assert sa.get_object(Bucket=bucket, Key="s")["Body"].read() == b"root's"
    admin.delete_service_account(made["accessKey"])
