"""Runs the pinned moto server as the project's AWS emulator, minus its Lambda pollers.

moto cannot run Lambda functions here (it would need Docker), yet on every SendMessage to a
queue with an event source mapping it receives a batch itself, fails to invoke the function,
and makes the messages visible again. Each of those receives counts towards the queue's
maxReceiveCount, so a burst of uploads pushed the first events into the DLQ before the local
executor, which plays Lambda's pollers, ever saw them. Mappings stay declared and readable
through the Lambda API; only moto's own polling is switched off.

moto's S3 event records also lack what AWS's carry: the object's `versionId` on a versioned
bucket and a `sequencer`. Without them the same version announced once by the emulator and
once by anything that names versions (a backfill, Batch Operations) would look like two
versions; the records get both, as AWS writes them.

moto's S3 events to EventBridge differ from AWS's too: `eTag` for `etag`, the same `sequencer`
for every event, and `reason` "ObjectCreated" where AWS names the API call (`PutObject`,
`CompleteMultipartUpload`, ...). They are delivered as AWS writes them, and GetBucketNotificationConfiguration shows the
bucket's EventBridge switch, which moto stores but leaves out of its answer.

moto's DynamoDB writes are not atomic: a conditional write reads the item, parses its
condition and only then stores, and the server runs requests on threads. Two workers claiming
one record at once could both succeed (measured: 45 of 400 contended keys claimed twice), so
the exactly-once claims the audit trail rests on held only by luck. AWS applies each write to
an item atomically; here every write takes one lock.

moto's SQS reads the clock through datetime arithmetic, twice per message held, on every send,
receive and attribute read (and reads all of a queue's attributes, counts included, to learn
its retention period once per message received): with thousands of messages queued, as a
backfill leaves them, the emulator spent most of its time there and slowed to a few messages a
second. Here the clock is `time.time()` and the retention period is read directly; what the
API answers is unchanged.

Usage: python serve.py [moto_server arguments, e.g. -H 127.0.0.1 -p 5000]
"""

import copy
import itertools
import re
import sys
import threading
import time

from moto.dynamodb.models import DynamoDBBackend
from moto.events import models as events_models
from moto.s3 import notifications as s3_notifications
from moto.s3.responses import S3Response
from moto.server import main
from moto.sqs import models as sqs_models


class _NotPolledByMoto(dict):
    """A queue's mapping registry that moto's own poller never sees an entry in."""

    def __setitem__(self, key, value):
        pass


_queue_init = sqs_models.Queue.__init__


def _queue_without_moto_pollers(self, *args, **kwargs):
    _queue_init(self, *args, **kwargs)
    self.lambda_event_source_mappings = _NotPolledByMoto()


sqs_models.Queue.__init__ = _queue_without_moto_pollers

_unix_time, _unix_time_millis = sqs_models.unix_time, sqs_models.unix_time_millis
sqs_models.unix_time = lambda dt=None: time.time() if dt is None else _unix_time(dt)
sqs_models.unix_time_millis = lambda dt=None: time.time() * 1000 if dt is None else _unix_time_millis(dt)


def _within_retention_period(self, queue_name, message):
    retention_period = self.get_queue(queue_name).message_retention_period
    return retention_period + message.sent_timestamp / 1000 > time.time()


sqs_models.SQSBackend.is_message_valid_based_on_retention_period = _within_retention_period

_s3_event = s3_notifications._get_s3_event
_sequencers = itertools.count(1)
_sequencer_lock = threading.Lock()


def _next_sequencer():
    """Hex, compared as strings of equal length: what S3 documents for ordering events."""
    with _sequencer_lock:
        return f"{next(_sequencers):018X}"


def _s3_event_as_aws_writes_it(event_name, bucket, key, notification_id):
    event = _s3_event(event_name, bucket, key, notification_id)
    sequencer = _next_sequencer()
    for record in event["Records"]:
        announced = record["s3"]["object"]
        if bucket.is_versioned and key.version_id not in (None, "null"):
            announced["versionId"] = key.version_id
        announced["sequencer"] = sequencer
    return event


s3_notifications._get_s3_event = _s3_event_as_aws_writes_it

# moto builds an S3 EventBridge event and hands it to every rule; what it lost on the way (the
# event's name, which S3 API made the object) is kept here for the rules to read.
_bridged = threading.local()
_send_event_bridge_message = s3_notifications._send_event_bridge_message
_REASONS = {"Put": "PutObject", "Post": "POST Object", "Copy": "CopyObject",
            "CompleteMultipartUpload": "CompleteMultipartUpload"}


def _bridged_as_aws_sends_it(account_id, bucket, event_name, key):
    _bridged.event = (event_name, _next_sequencer())
    try:
        _send_event_bridge_message(account_id, bucket, event_name, key)
    finally:
        _bridged.event = None


s3_notifications._send_event_bridge_message = _bridged_as_aws_sends_it
_send_to_targets = events_models.Rule.send_to_targets


def _send_to_targets_as_aws_writes_it(self, event, transform_input=True):
    bridged = getattr(_bridged, "event", None)
    if bridged is not None and event.get("source") == "aws.s3":
        event_name, sequencer = bridged
        event = copy.deepcopy(event)
        announced = event["detail"]["object"]
        announced["etag"] = announced.pop("eTag", None)
        announced["sequencer"] = sequencer
        api = event_name.rsplit(":", 1)[-1]
        event["detail"]["reason"] = _REASONS.get(api, api)
    return _send_to_targets(self, event, transform_input)


events_models.Rule.send_to_targets = _send_to_targets_as_aws_writes_it
_get_bucket_notification = S3Response.get_bucket_notification


def _bucket_notification_as_aws_answers(self):
    status, headers, body = _get_bucket_notification(self)
    configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
    if configuration is None or configuration.event_bridge is None:
        return status, headers, body
    text = body.decode() if isinstance(body, bytes) else body
    switch = "<EventBridgeConfiguration></EventBridgeConfiguration>"
    if "<EventBridgeConfiguration" not in text:
        # The root element closes itself when moto has nothing else to say.
        text = re.sub(r"<NotificationConfiguration([^>]*)/>", r"<NotificationConfiguration\1></NotificationConfiguration>", text)
        text = text.replace("</NotificationConfiguration>", switch + "</NotificationConfiguration>")
    return status, headers, text


S3Response.get_bucket_notification = _bucket_notification_as_aws_answers

_dynamodb_write_lock = threading.RLock()  # a transaction calls the other writes


def _atomic(write):
    def locked(*args, **kwargs):
        with _dynamodb_write_lock:
            return write(*args, **kwargs)

    return locked


for _write in ("put_item", "update_item", "delete_item", "transact_write_items"):
    setattr(DynamoDBBackend, _write, _atomic(getattr(DynamoDBBackend, _write)))

if __name__ == "__main__":
    sys.exit(main())
