"""STS AssumeRoleWithWebIdentity with boto3: a real OpenID provider (oidc-provider, test/helpers/oidc-serve.ts)
issues an ID token through the authorization code flow, driven here as a browser would; boto3's `sts` (unsigned)
turns it into temporary credentials whose rights are the policy the token's `policy` claim names, narrowed by a
session policy. What is refused is read back: nothing stored."""
import base64
import hashlib
import json
import os
import secrets
import subprocess
from urllib.parse import parse_qs, urljoin, urlsplit

import botocore
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import REPO, fresh_bucket, run_cairn, stop_process, venv_bin
from test_cli_clients import run
from test_iam import client, code

ACCOUNTS = {"alice": {"policy": "py-oidc-read", "preferred_username": "alice"},
            "nobody": {"preferred_username": "nobody"}}


@pytest.fixture(scope="module")
def idp():
    proc = subprocess.Popen(["node", "--import", "tsx", "test/helpers/oidc-serve.ts", json.dumps(ACCOUNTS)],
                            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        # The provider prints its notices, then one JSON line once it serves.
        for line in proc.stdout:
            if line.startswith("{"):
                yield json.loads(line)
                break
        else:
            raise RuntimeError("the OpenID provider exited before serving")
    finally:
        stop_process(proc, timeout=10)


@pytest.fixture(scope="module")
def oidc_cairn(idp, tmp_path_factory):
    env = {"CAIRN_IDENTITY_OPENID_CONFIG_URL": idp["configUrl"], "CAIRN_IDENTITY_OPENID_CLIENT_ID": idp["clientId"],
           "CAIRN_IDENTITY_OPENID_CLIENT_SECRET": idp["clientSecret"]}
    with run_cairn(tmp_path_factory.mktemp("cairn-oidc"), extra_env=env) as server:
        iam = client(server, "iam")
        iam.create_policy(PolicyName="py-oidc-read", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::*/shared/*"]},
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                 "Resource": ["arn:aws:s3:::*/home/${jwt:preferred_username}/*"]}]}))
        yield server


@pytest.fixture
def oidc_bucket(oidc_cairn):
    """A fresh bucket on the OpenID-configured server (the `bucket` fixture's conventions)."""
    yield from fresh_bucket(oidc_cairn)


def login(idp, account: str) -> str:
    """The authorization code flow with PKCE, as a browser and the client application would: the ID token."""
    issuer = idp["issuer"]
    browser = requests.Session()
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    res = browser.get(f"{issuer}/auth", allow_redirects=False, params={
        "client_id": idp["clientId"], "response_type": "code", "scope": "openid profile",
        "redirect_uri": idp["redirectUri"], "state": secrets.token_hex(8),
        "code_challenge": challenge, "code_challenge_method": "S256"})
    for _ in range(10):
        location = urljoin(issuer, res.headers["location"])
        if location.startswith(idp["redirectUri"]):
            auth_code = parse_qs(urlsplit(location).query)["code"][0]
            token = requests.post(f"{issuer}/token", auth=(idp["clientId"], idp["clientSecret"]), data={
                "grant_type": "authorization_code", "code": auth_code, "redirect_uri": idp["redirectUri"],
                "code_verifier": verifier}).json()
            return token["id_token"]
        if urlsplit(location).path.startswith("/interaction/"):
            page = browser.get(location).text
            form = {"prompt": "login", "login": account, "password": "any"} if 'name="login"' in page \
                else {"prompt": "consent"}
            res = browser.post(location, data=form, allow_redirects=False)
        else:
            res = browser.get(location, allow_redirects=False)
    raise AssertionError("the login did not finish in 10 redirects")


def web_identity(server, token: str, **extra):
    # No credentials and no signature: AssumeRoleWithWebIdentity is an unsigned call.
    sts = boto3_sts(server)
    out = sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::123456789012:role/any", RoleSessionName="py",
                                            WebIdentityToken=token, **extra)
    return out


def boto3_sts(server):
    import boto3
    return boto3.client("sts", endpoint_url=server.endpoint, region_name=server.region,
                        config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}))


def keys(server, bucket: str) -> list[str]:
    return [o["Key"] for o in server.client().list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_boto3_web_identity_credentials_have_the_claims_policy(idp, oidc_cairn, oidc_bucket):
    root = oidc_cairn.client()
    root.put_object(Bucket=oidc_bucket, Key="shared/report.csv", Body=b"a,b\n")
    root.put_object(Bucket=oidc_bucket, Key="private/salaries.csv", Body=b"secret")
    out = web_identity(oidc_cairn, login(idp, "alice"), DurationSeconds=900)
    assert out["SubjectFromWebIdentityToken"] == "alice"
    assert out["Audience"] == idp["clientId"]
    assert out["Provider"] == idp["issuer"]
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts:::assumed-role/openid/py"
    c = out["Credentials"]
    s3 = client(oidc_cairn, "s3", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert s3.get_object(Bucket=oidc_bucket, Key="shared/report.csv")["Body"].read() == b"a,b\n"
    s3.put_object(Bucket=oidc_bucket, Key="home/alice/mine.txt", Body=b"mine")
    assert root.get_object(Bucket=oidc_bucket, Key="home/alice/mine.txt")["Body"].read() == b"mine"
    for key in ("private/salaries.csv", "home/bob/theirs.txt"):
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket=oidc_bucket, Key=key)
        assert code(e.value) == "AccessDenied"
    for key in ("shared/new.csv", "home/bob/theirs.txt"):
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=oidc_bucket, Key=key, Body=b"x")
        assert code(e.value) == "AccessDenied"
    assert keys(oidc_cairn, oidc_bucket) == ["home/alice/mine.txt", "private/salaries.csv", "shared/report.csv"]
    who = client(oidc_cairn, "sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity()
    assert who["Arn"] == "arn:aws:sts:::assumed-role/openid/py"


def test_boto3_session_policy_narrows_web_identity_credentials(idp, oidc_cairn, oidc_bucket):
    root = oidc_cairn.client()
    root.put_object(Bucket=oidc_bucket, Key="shared/report.csv", Body=b"a,b\n")
    narrow = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{oidc_bucket}/home/alice/*"}]}
    out = web_identity(oidc_cairn, login(idp, "alice"), Policy=json.dumps(narrow))
    assert out["PackedPolicySize"] > 0
    c = out["Credentials"]
    s3 = client(oidc_cairn, "s3", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    s3.put_object(Bucket=oidc_bucket, Key="home/alice/allowed.txt", Body=b"ok")
    # The claim's policy allows these; the session policy does not.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=oidc_bucket, Key="shared/report.csv")
    assert code(e.value) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=oidc_bucket, Key="home/alice/allowed.txt")
    assert code(e.value) == "AccessDenied"
    assert keys(oidc_cairn, oidc_bucket) == ["home/alice/allowed.txt", "shared/report.csv"]
    assert root.get_object(Bucket=oidc_bucket, Key="home/alice/allowed.txt")["Body"].read() == b"ok"


def test_boto3_web_identity_refusals(idp, oidc_cairn):
    token = login(idp, "alice")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["policy"] = "consoleAdmin"
    forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode(), signature])
    for bad, expected in [(forged, "InvalidIdentityToken"), ("not-a-jwt", "InvalidIdentityToken"),
                          (login(idp, "nobody"), "AccessDenied")]:
        with pytest.raises(ClientError) as e:
            web_identity(oidc_cairn, bad)
        assert code(e.value) == expected


def test_aws_cli_assume_role_with_web_identity(idp, oidc_cairn, oidc_bucket, tmp_path):
    """The README's example: `aws sts assume-role-with-web-identity --no-sign-request`, then S3 with its keys."""
    oidc_cairn.client().put_object(Bucket=oidc_bucket, Key="shared/cli.txt", Body=b"from the cli")
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\n")
    env = dict(os.environ, AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(k, None)
    aws = [venv_bin("aws"), "--endpoint-url", oidc_cairn.endpoint, "--output", "json", "--no-sign-request"]
    out = json.loads(run(aws + ["sts", "assume-role-with-web-identity", "--role-arn",
                                "arn:aws:iam::000000000000:role/any", "--role-session-name", "cli",
                                "--web-identity-token", login(idp, "alice")], env=env))
    assert out["SubjectFromWebIdentityToken"] == "alice"
    c = out["Credentials"]
    s3 = client(oidc_cairn, "s3", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert s3.get_object(Bucket=oidc_bucket, Key="shared/cli.txt")["Body"].read() == b"from the cli"


def test_boto3_web_identity_into_an_iam_role(idp, oidc_cairn, oidc_bucket):
    """AWS's model beside MinIO's: the provider registered in IAM, a role trusting it for one subject, boto3's
    assume_role_with_web_identity with the role's ARN; the role's policy is the session's rights."""
    iam = client(oidc_cairn, "iam")
    url = idp["issuer"].split("://", 1)[1]
    provider = iam.create_open_id_connect_provider(Url=idp["issuer"], ClientIDList=[idp["clientId"]])
    try:
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider["OpenIDConnectProviderArn"]},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{url}:aud": idp["clientId"], f"{url}:sub": "alice"}}}]}
        role = iam.create_role(RoleName="py-web-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        iam.put_role_policy(RoleName="py-web-role", PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{oidc_bucket}/private/*"}]}))
        root = oidc_cairn.client()
        root.put_object(Bucket=oidc_bucket, Key="private/report.csv", Body=b"for the role")
        sts = boto3_sts(oidc_cairn)
        out = sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="py-role",
                                                WebIdentityToken=login(idp, "alice"))
        assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts:::assumed-role/py-web-role/py-role"
        c = out["Credentials"]
        s3 = client(oidc_cairn, "s3", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        assert s3.get_object(Bucket=oidc_bucket, Key="private/report.csv")["Body"].read() == b"for the role"
        # The claim's policy (py-oidc-read) is not the role's: shared/ is not readable in this session.
        root.put_object(Bucket=oidc_bucket, Key="shared/x.csv", Body=b"x")
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket=oidc_bucket, Key="shared/x.csv")
        assert code(e.value) == "AccessDenied"
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=oidc_bucket, Key="private/new.csv", Body=b"x")
        assert code(e.value) == "AccessDenied"
        # Another subject: the trust policy refuses it.
        with pytest.raises(ClientError) as e:
            sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="py-role",
                                              WebIdentityToken=login(idp, "nobody"))
        assert code(e.value) == "AccessDenied"
        # The role deleted: its sessions end.
        iam.delete_role_policy(RoleName="py-web-role", PolicyName="read")
        iam.delete_role(RoleName="py-web-role")
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket=oidc_bucket, Key="private/report.csv")
        assert code(e.value) == "AccessDenied"
        assert keys(oidc_cairn, oidc_bucket) == ["private/report.csv", "shared/x.csv"]
    finally:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider["OpenIDConnectProviderArn"])
