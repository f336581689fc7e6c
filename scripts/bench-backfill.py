#!/usr/bin/env python3
"""Backfill on the local stack: objects/s into the ingest queue, and the time until every one
has its terminal record.

Starts `triage local` (debug binaries, as the tests run them), puts N small objects while the
bucket announces nothing and writes an S3 Inventory report of them (manifest.json + gzip CSV,
as AWS does), then times `triage backfill --inventory` (throughput into the ingest queue) and
the pipeline until each object's last stage is recorded and notified. --listing backfills from
a bucket listing instead (the emulator's ListObjectVersions takes seconds per page once the
bucket holds thousands of versions; S3's does not). Text files under uploads/documents/ go
router -> extractor queue -> extractor (a worker on every object); --ignored puts them outside
every routed prefix (the router alone).
Usage: scripts/bench-backfill.py [--objects 10000] [--rate 1000] [--max-in-flight 200] [--ignored] [--listing]
"""
import argparse
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote_plus

from benchlib import ROOT, step


def moto_python() -> str:
    """The emulator's virtualenv python, which has boto3 (installed by ensure-moto.sh)."""
    out = subprocess.run([str(ROOT / "scripts/ensure-moto.sh")], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


try:
    import boto3
except ImportError:
    os.execv(moto_python(), [moto_python(), *sys.argv])

parser = argparse.ArgumentParser()
parser.add_argument("--objects", type=int, default=10_000)
parser.add_argument("--rate", type=float, default=1000.0, help="backfill --rate (objects/s)")
parser.add_argument("--max-in-flight", type=int, default=200,
                    help="backfill --max-in-flight (its default): how deep the ingest queue may get")
parser.add_argument("--ignored", action="store_true", help="objects no rule routes: the router alone")
parser.add_argument("--listing", action="store_true", help="backfill from a listing, not an inventory")
args = parser.parse_args()

step("building the binaries (nothing when unchanged)")
subprocess.run(["cargo", "build", "--workspace", "--bins", "--locked"], cwd=ROOT, check=True)
triage = ROOT / "target/debug/triage"
state_file = ROOT / ".local/bench-backfill.json"
state_file.unlink(missing_ok=True)
step("starting the local stack (about two minutes)")
local = subprocess.Popen(
    [triage, "local", "--binaries", ROOT / "target/debug", "--state-file", state_file],
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
try:
    deadline = time.time() + 600
    while not state_file.exists():
        if local.poll() is not None or time.time() > deadline:
            sys.exit("triage local did not come up (run it by hand to see why)")
        time.sleep(1)
    time.sleep(1)
    state = json.loads(state_file.read_text())
    aws = dict(endpoint_url=state["endpoint_url"], region_name=state["region"],
               aws_access_key_id="testing", aws_secret_access_key="testing")
    s3, sqs, sns = boto3.client("s3", **aws), boto3.client("sqs", **aws), boto3.client("sns", **aws)
    bucket = state["bucket"]
    # Notifications are counted off a queue of our own: scanning the audit table would cost
    # the emulator a copy of every item per look.
    notified_url = sqs.create_queue(QueueName="bench-backfill-notifications")["QueueUrl"]
    notified_arn = sqs.get_queue_attributes(QueueUrl=notified_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=state["notifications_topic_arn"], Protocol="sqs", Endpoint=notified_arn,
                  Attributes={"RawMessageDelivery": "true"})
    prefix, stage = ("archive/bench/", "router") if args.ignored else ("uploads/documents/bench/", "extractor")

    step(f"putting {args.objects} objects under {prefix} with the bucket's notifications off")
    notifications = s3.get_bucket_notification_configuration(Bucket=bucket)
    notifications.pop("ResponseMetadata", None)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    started = time.perf_counter()
    def put(n):
        key, body = f"{prefix}note {n:05}.txt", f"note {n}: nothing to see\n".encode()
        put = s3.put_object(Bucket=bucket, Key=key, Body=body)
        return key, put.get("VersionId"), len(body), put["ETag"].strip('"')
    with ThreadPoolExecutor(16) as pool:
        written = list(pool.map(put, range(args.objects)))
    put_s = time.perf_counter() - started
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=notifications)
    rows = "".join(f'"{bucket}","{quote_plus(key, safe="/")}","{version or ""}","true","false",'
                   f'"{size}","2026-12-01T00:00:00.000Z","{etag}"\n'
                   for key, version, size, etag in written)
    data = gzip.compress(rows.encode())
    inventory = "inventory/bench/"
    s3.put_object(Bucket=bucket, Key=f"{inventory}data/0.csv.gz", Body=data)
    manifest = {"sourceBucket": bucket, "destinationBucket": f"arn:aws:s3:::{bucket}", "version": "2016-11-30",
                "fileFormat": "CSV",
                "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag",
                "files": [{"key": f"{inventory}data/0.csv.gz", "size": len(data), "MD5checksum": "-"}]}
    s3.put_object(Bucket=bucket, Key=f"{inventory}manifest.json", Body=json.dumps(manifest).encode())
    source = ["--prefix", prefix] if args.listing else ["--inventory", f"s3://{bucket}/{inventory}manifest.json"]

    step(f"triage backfill {source[0]} --rate {args.rate:g}, until {args.objects} {stage} notifications")
    started = time.perf_counter()
    backfill = subprocess.Popen(
        [triage, "backfill", "--state-file", state_file, *source, "--rate", str(args.rate),
         "--max-in-flight", str(args.max_in_flight), "--restart", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    # Drained while the backfill runs: a queue left to fill makes every emulated send slower.
    notified, reported, backfill_s = set(), time.perf_counter(), None
    while len(notified) < args.objects:
        received = sqs.receive_message(QueueUrl=notified_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = received.get("Messages", [])
        for message in messages:
            record = json.loads(message["Body"])
            if record.get("stage") == stage and record.get("key", "").startswith(prefix):
                notified.add(record["notification_id"])
        if messages:
            sqs.delete_message_batch(QueueUrl=notified_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])
        if backfill_s is None and backfill.poll() is not None:
            backfill_s = time.perf_counter() - started
            if backfill.returncode != 0:
                sys.exit(f"triage backfill failed ({backfill.returncode})")
            summary = json.loads(backfill.stdout.read())
        if time.perf_counter() - reported > 5:
            reported = time.perf_counter()
            print(f"    {len(notified)}/{args.objects} after {reported - started:.0f} s", file=sys.stderr, flush=True)
    end_to_end_s = time.perf_counter() - started
    if backfill_s is None:
        backfill.wait()
        backfill_s = time.perf_counter() - started
        summary = json.loads(backfill.stdout.read())
finally:
    local.send_signal(signal.SIGINT)
    local.wait()

print(f"objects: {args.objects} ({'router only' if args.ignored else 'router + extractor'}), "
      f"put in {put_s:.1f} s ({args.objects / put_s:.0f}/s)")
print(f"backfill {source[0]}: {summary['sent']} sent in {backfill_s:.1f} s = {summary['sent'] / backfill_s:.0f} objects/s "
      f"into the ingest queue (--rate {args.rate:g})")
print(f"end to end: every object's {stage} record notified {end_to_end_s:.0f} s after the backfill started "
      f"= {args.objects / end_to_end_s:.1f} objects/s")
