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

import itertools
import sys
import threading
import time

from moto.dynamodb.models import DynamoDBBackend
from moto.s3 import notifications as s3_notifications
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


def _s3_event_as_aws_writes_it(event_name, bucket, key, notification_id):
    event = _s3_event(event_name, bucket, key, notification_id)
    with _sequencer_lock:
        sequencer = next(_sequencers)
    for record in event["Records"]:
        announced = record["s3"]["object"]
        if bucket.is_versioned and key.version_id not in (None, "null"):
            announced["versionId"] = key.version_id
        # Hex, compared as strings of equal length: what S3 documents for ordering events.
        announced["sequencer"] = f"{sequencer:018X}"
    return event


s3_notifications._get_s3_event = _s3_event_as_aws_writes_it

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
