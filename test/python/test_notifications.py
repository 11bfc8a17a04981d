"""Bucket notifications through boto3 and minio-py: Put/GetBucketNotificationConfiguration round trips (with
filters, both ARN forms), refusals that store nothing, and an event delivered to a webhook this suite runs."""
import io
import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.exceptions
import pytest
from minio import Minio
from minio.error import S3Error
from minio.notificationconfig import NotificationConfig, PrefixFilterRule, QueueConfig, SuffixFilterRule

from conftest import fresh_bucket, run_cairn

ARN = "arn:cairn:sqs::py:webhook"


class _Receiver(BaseHTTPRequestHandler):
    received: "queue.Queue[dict]"

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.put(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def webhook():
    received: "queue.Queue[dict]" = queue.Queue()
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, received
    server.shutdown()


@pytest.fixture(scope="module")
def cairn_notify(tmp_path_factory, webhook):
    server, _ = webhook
    env = {
        "CAIRN_NOTIFY_WEBHOOK_ENABLE_py": "on",
        "CAIRN_NOTIFY_WEBHOOK_ENDPOINT_py": f"http://127.0.0.1:{server.server_address[1]}/events",
    }
    # One worker: ListenBucketNotification is refused on a server of several (a listener would miss the
    # events the other workers handle).
    with run_cairn(tmp_path_factory.mktemp("cairn-notify"), ("--workers", "1"), extra_env=env) as cairn:
        yield cairn


@pytest.fixture
def bucket(cairn_notify):
    yield from fresh_bucket(cairn_notify)


def minio_client(cairn):
    return Minio(f"{cairn.host}:{cairn.port}", access_key=cairn.access_key, secret_key=cairn.secret_key,
                 secure=False)


def test_boto3_round_trip_and_refusals(cairn_notify, bucket):
    s3 = cairn_notify.client()
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations", []) == []
    config = {
        "QueueConfigurations": [{
            "Id": "images",
            "QueueArn": ARN,
            "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "img/"},
                                               {"Name": "suffix", "Value": ".jpg"}]}},
        }],
    }
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["QueueConfigurations"] == config["QueueConfigurations"]

    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": "arn:cairn:sqs::nosuch:webhook", "Events": ["s3:ObjectCreated:*"]}],
        })
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [
                {"Id": "a", "QueueArn": ARN, "Events": ["s3:ObjectCreated:*"]},
                {"Id": "b", "QueueArn": ARN, "Events": ["s3:ObjectCreated:Put"]},
            ],
        })
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    # Nothing stored by either refusal.
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"] == \
        config["QueueConfigurations"]


def test_minio_py_round_trip_and_delivery(cairn_notify, bucket, webhook):
    _, received = webhook
    mc = minio_client(cairn_notify)
    mc.set_bucket_notification(bucket, NotificationConfig(queue_config_list=[
        QueueConfig(queue="arn:minio:sqs::py:webhook", events=["s3:ObjectCreated:*"], config_id="csv",
                    prefix_filter_rule=PrefixFilterRule("in/"), suffix_filter_rule=SuffixFilterRule(".csv")),
    ]))
    got = mc.get_bucket_notification(bucket)
    [q] = got.queue_config_list
    assert (q.queue, q.events, q.config_id) == ("arn:minio:sqs::py:webhook", ["s3:ObjectCreated:*"], "csv")
    assert (q.prefix_filter_rule.value, q.suffix_filter_rule.value) == ("in/", ".csv")

    mc.put_object(bucket, "out/skip.csv", io.BytesIO(b"no"), 2)
    mc.put_object(bucket, "in/data 1.csv", io.BytesIO(b"a,b\n"), 4)
    event = received.get(timeout=60)  # a bound on a blocking wait, not a timing assertion
    assert event["EventName"] == "s3:ObjectCreated:Put"
    assert event["Key"] == f"{bucket}/in/data 1.csv"
    record = event["Records"][0]
    assert record["s3"]["object"]["key"] == "in/data+1.csv"
    assert record["s3"]["object"]["size"] == 4
    assert record["userIdentity"]["principalId"] == cairn_notify.access_key
    assert cairn_notify.secret_key not in json.dumps(event)
    assert received.empty()

    with pytest.raises(S3Error) as e:
        mc.set_bucket_notification(bucket, NotificationConfig(queue_config_list=[
            QueueConfig(queue="arn:minio:sqs::py:redis", events=["s3:ObjectCreated:*"]),
        ]))
    assert e.value.code == "InvalidArgument"


def test_minio_py_listen_bucket_notification(cairn_notify, bucket):
    mc = minio_client(cairn_notify)
    heard: "queue.Queue[dict]" = queue.Queue()

    def listen():
        with mc.listen_bucket_notification(bucket, prefix="w/", events=("s3:ObjectCreated:*",)) as events:
            heard.put(next(iter(events)))

    threading.Thread(target=listen, daemon=True).start()
    # The listener is connected at some point after the thread starts: write until it hears one. Objects
    # outside its prefix are written alongside and must never reach it.
    written = []
    for i in range(300):
        mc.put_object(bucket, f"x/{i}", io.BytesIO(b"no"), 2)
        mc.put_object(bucket, f"w/{i} k", io.BytesIO(b"yes"), 3)
        written.append(f"w/{i} k")
        try:
            event = heard.get(timeout=0.2)
            break
        except queue.Empty:
            continue
    else:
        pytest.fail("the listener heard nothing")
    record = event["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] in written  # MinIO's listen records carry keys as they are
    assert record["s3"]["object"]["size"] == 3
