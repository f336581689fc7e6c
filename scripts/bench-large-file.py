#!/usr/bin/env python3
"""Benchmark of the large-file tier against the reference tools, side by side in one run:

(a) our read-and-hash pipeline (the task's stream, part readers and hashing threads over a
    local file: example `hash_file`) vs `openssl dgst -sha256` on the same 5 GiB file, with
    the page cache warm, then cold (caches dropped before each run, when allowed);
(b) the task binary streaming 100 MiB, 1 GiB and 5 GiB objects from a disk-backed S3 server
    (s3s-fs), with the content and PII checks in its pass, vs
    `aws s3 cp s3://... - | openssl dgst -sha256` on the same objects, compared by the pass's
    own time (its manifest: HEAD and stream). The task's whole run is shown too: s3s-fs serves
    neither object tags (the verdict is retried 4 times, about 2 s, then given up) nor version
    listings (the malware check's signature loader needs them, so it is off here;
    `scripts/bench-compliance.py` measures the scan);
(c) the task's peak RSS at each of those sizes;
(d) a burst: N objects queued at once, processed by one task per file (each taking one object,
    as the tier ran before the queue) vs a few queue-fed tasks taking file after file: tasks
    started, wall time, task-seconds (what Fargate bills), and the cost per 1,000 x 1 GiB these
    measurements give at list prices. Against the emulator's S3 (which takes the verdict's tags),
    read by one streaming GET per object as envs/local reads; the malware check off as in (b)
    (20 tasks loading signatures at once get 500s from the emulator).

Each task is fed by a queue and exits once it has stayed empty for 1 s; that second is taken
off every time reported.

    python3 scripts/bench-large-file.py [--sizes 100MiB,1GiB,5GiB] [--runs 2]
        [--burst 20 --burst-size 100MiB --burst-tasks 4 --burst-per-task 2]

Installs what it needs: s3s-fs (cargo install, pinned) into .local/bench-tools, the AWS CLI
(pinned, PyPI) into .local/bench-venv, the emulator for the task's audit table. Generated
objects stay in .local/bench-large (about 2x the sizes on disk) for reruns.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from concurrent.futures import ThreadPoolExecutor

from benchlib import ROOT, build_binary, build_example, ensure_pip_package, step, timed

S3S_FS = "s3s-fs@0.14.1"
AWSCLI = "awscli==1.46.3"
TOOLS = ROOT / ".local" / "bench-tools"
DATA = ROOT / ".local" / "bench-large"
BUCKET = "bench"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
UNITS = {"MiB": 1 << 20, "GiB": 1 << 30}
# A task exits this long after its queue stays empty; taken off every time reported.
IDLE_SECONDS = 1
# us-east-1 Fargate list prices per second for the task's 1 vCPU and 2 GB (Linux).
PER_SECOND = {
    "x86_64": (0.04048 + 2 * 0.004445) / 3600,
    "ARM64": (0.03238 + 2 * 0.00356) / 3600,
}
# Spot is assumed at 70% off on-demand: its prices vary by region and hour.
SPOT_FACTOR = 0.3
# What a Fargate task bills before its first byte: the image pull and container start (billing
# starts at the pull), about 60 s; the minimum billed is one minute. Assumptions, not measured
# here (no Fargate): the benchmark measures the work and the number of tasks.
FARGATE_START_SECONDS = 60
FARGATE_MINIMUM_SECONDS = 60


def parse_size(text: str) -> int:
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return int(text[: -len(unit)]) * factor
    return int(text)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, what: str) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    sys.exit(f"{what} did not start on port {port}")


def ensure_s3s_fs() -> Path:
    binary = TOOLS / "bin" / "s3s-fs"
    if not binary.exists():
        step(f"installing {S3S_FS} (cargo install, a few minutes the first time)")
        subprocess.run(
            ["cargo", "install", S3S_FS, "--features", "binary", "--locked", "--root", str(TOOLS)],
            check=True,
        )
    return binary


def drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def generate(path: Path, size: int) -> None:
    if path.exists() and path.stat().st_size == size:
        return
    step(f"generating {path.name} ({size >> 20} MiB of random bytes)")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open("/dev/urandom", "rb") as source, open(path, "wb") as out:
        left = size
        while left:
            block = source.read(min(left, 16 << 20))
            out.write(block)
            left -= len(block)


def warm(path: Path) -> None:
    with open(path, "rb") as file:
        while file.read(16 << 20):
            pass


def openssl_sha256(command: list) -> str:
    return command.stdout.split()[-1] if command.stdout else ""


def row(cells: list, widths: list) -> str:
    return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths))


def print_table(headers: list, rows: list) -> None:
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    print(row(headers, widths))
    for r in rows:
        print(row(r, widths))


def hash_benchmark(hash_file: Path, path: Path, runs: int) -> list:
    """(a): best of `runs` for each tool, warm, then cold."""
    size = path.stat().st_size
    tools = {
        "openssl dgst -sha256": lambda: timed(["openssl", "dgst", "-sha256", str(path)]),
        "ours (hash_file)": lambda: timed([str(hash_file), str(path), "16MiB", "2"]),
    }
    rows = []
    for cache in ["warm", "cold"]:
        if cache == "cold" and not drop_caches():
            print("(cold cache skipped: cannot write /proc/sys/vm/drop_caches)")
            continue
        results = {}
        for name, run in tools.items():
            walls, digest, rss = [], "", 0.0
            for _ in range(runs):
                if cache == "cold":
                    drop_caches()
                else:
                    run()  # warms the cache (and is not counted)
                result, wall, peak = run()
                if result.returncode != 0:
                    sys.exit(f"{name} failed: {result.stderr}")
                walls.append(wall)
                rss = max(rss, peak)
                digest = json.loads(result.stdout)["sha256"] if name.startswith("ours") else openssl_sha256(result)
            results[name] = (min(walls), digest, rss)
        reference = results["openssl dgst -sha256"]
        for name, (wall, digest, rss) in results.items():
            rows.append([cache, name, f"{size / 1e6 / wall:.0f}", f"{wall:.2f}", f"{rss:.1f}",
                         f"{reference[0] / wall:.2f}x", "yes" if digest == reference[1] else "NO"])
    return rows


def dispatch_for(key: str, size: int, etag: str) -> str:
    return json.dumps({
        "correlation_id": uuid.uuid4().hex, "tier": "large", "rule": "bench",
        "content_kind": "other", "routed_at": datetime.now(timezone.utc).isoformat(),
        "object": {"bucket": BUCKET, "key": key, "raw_key": key, "size": size, "etag": etag,
                   "version_id": None, "sequencer": None, "event_time": None,
                   "event_name": "ObjectCreated:Put", "uploaded_by": None},
    })


def fargate_cost_per_1000(tasks_per_1000: float, work_seconds_per_file: float) -> dict:
    """Compute cost of 1,000 files: each task bills its start, its files' task-seconds and its
    idle wait, at least a minute."""
    files_per_task = 1000 / tasks_per_1000
    task_seconds = FARGATE_START_SECONDS + files_per_task * work_seconds_per_file + IDLE_SECONDS
    billed = tasks_per_1000 * max(FARGATE_MINIMUM_SECONDS, task_seconds)
    return {arch: billed * rate for arch, rate in PER_SECOND.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100MiB,1GiB,5GiB", help="object sizes for (b) and (c)")
    parser.add_argument("--hash-size", default="5GiB", help="local file size for (a)")
    parser.add_argument("--runs", type=int, default=2, help="runs per tool and size (best is shown)")
    parser.add_argument("--part-size", default="8MiB", help="the task's TRIAGE_LARGE_PART_SIZE")
    parser.add_argument("--parallelism", default="8", help="the task's TRIAGE_LARGE_PARALLELISM")
    parser.add_argument("--burst", type=int, default=20, help="objects queued at once for (d); 0 skips it")
    parser.add_argument("--burst-size", default="100MiB", help="size of each burst object")
    parser.add_argument("--burst-tasks", type=int, default=4, help="queue-fed tasks for the burst (max_tasks)")
    parser.add_argument("--burst-per-task", type=int, default=2, help="objects one queue-fed task streams at once")
    args = parser.parse_args()
    sizes = [parse_size(text) for text in args.sizes.split(",")]

    s3s_fs = ensure_s3s_fs()
    aws = ensure_pip_package(AWSCLI) / "aws"
    hash_file = build_example("large-file", "hash_file")
    task = build_binary("large-file", "large-file")
    python = subprocess.run([str(ROOT / "scripts" / "ensure-moto.sh")], capture_output=True, text=True,
                            check=True).stdout.strip()

    files = DATA / "files"
    hash_path = files / f"{parse_size(args.hash_size)}.bin"
    generate(hash_path, parse_size(args.hash_size))
    step(f"(a) hashing {hash_path.stat().st_size >> 20} MiB: ours vs openssl")
    hash_rows = hash_benchmark(hash_file, hash_path, args.runs)

    s3_root = DATA / "s3"
    (s3_root / BUCKET).mkdir(parents=True, exist_ok=True)
    s3_port, moto_port = free_port(), free_port()
    servers = [
        subprocess.Popen([str(s3s_fs), "--host", "127.0.0.1", "--port", str(s3_port),
                          "--access-key", CREDENTIALS["AWS_ACCESS_KEY_ID"],
                          "--secret-key", CREDENTIALS["AWS_SECRET_ACCESS_KEY"], str(s3_root)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([python, str(ROOT / "emulator" / "serve.py"), "-H", "127.0.0.1", "-p", str(moto_port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        wait_for_port(s3_port, "s3s-fs")
        wait_for_port(moto_port, "the emulator")
        s3_endpoint, moto_endpoint = f"http://127.0.0.1:{s3_port}", f"http://127.0.0.1:{moto_port}"
        env = {**os.environ, **CREDENTIALS}

        def cli(*command, endpoint=moto_endpoint):
            done = subprocess.run([str(aws), "--endpoint-url", endpoint, *command], env=env,
                                  capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"aws {' '.join(command)} failed: {done.stderr}")
            return json.loads(done.stdout) if done.stdout.strip() else {}

        topic = cli("sns", "create-topic", "--name", "bench")["TopicArn"]
        def queue_with(dispatches: list) -> str:
            queue = cli("sqs", "create-queue", "--queue-name", f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
            for body in dispatches:
                cli("sqs", "send-message", "--queue-url", queue, "--message-body", body)
            return queue

        def new_table() -> str:
            table = f"bench-{uuid.uuid4().hex[:8]}"
            # The task only writes: the key schema is all the table needs here.
            cli("dynamodb", "create-table", "--table-name", table, "--billing-mode", "PAY_PER_REQUEST",
                "--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=S",
                "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE")
            return table

        def task_env(table: str, queue: str, per_task: int = 1, emulated_s3: bool = False) -> dict:
            s3 = {"TRIAGE_LARGE_PART_SIZE": "5GiB", "TRIAGE_LARGE_PARALLELISM": "1"} if emulated_s3 else {
                  "TRIAGE_LARGE_PART_SIZE": args.part_size, "TRIAGE_LARGE_PARALLELISM": args.parallelism,
                  "AWS_ENDPOINT_URL_S3": s3_endpoint}
            return {**env, "TRIAGE_LARGE_QUEUE_URL": queue, "TRIAGE_LARGE_IDLE_SECONDS": str(IDLE_SECONDS),
                    "TRIAGE_LARGE_MESSAGES_PER_TASK": str(per_task), "TRIAGE_ENVIRONMENT": "bench",
                    "TRIAGE_AUDIT_TABLE": table, "TRIAGE_NOTIFICATIONS_TOPIC_ARN": topic,
                    "AWS_ENDPOINT_URL": moto_endpoint, **s3}

        def put(key: str, path: Path, endpoint: str = s3_endpoint) -> str:
            """Uploads `path` as `key` unless there; returns its eTag."""
            size = path.stat().st_size
            try:
                head = cli("s3api", "head-object", "--bucket", BUCKET, "--key", key, endpoint=endpoint)
            except SystemExit:
                head = {}
            if head.get("ContentLength") != size:
                # One PUT, so the server keeps the eTag and checksum (it recomputes an MD5 of the
                # whole file on every GET of an object it did not receive itself).
                step(f"uploading {key} to {endpoint}")
                cli("s3api", "put-object", "--bucket", BUCKET, "--key", key, "--body", str(path),
                    endpoint=endpoint)
                head = cli("s3api", "head-object", "--bucket", BUCKET, "--key", key, endpoint=endpoint)
            return head["ETag"].strip('"')

        stream_rows, stream_seconds_per_gib = [], []
        for size in sizes:
            key = f"objects/{size}.bin"
            path = files / f"{size}.bin"
            generate(path, size)
            etag = put(key, path)
            step(f"(b) streaming {size >> 20} MiB: the task vs aws s3 cp | openssl")
            for run in range(args.runs):
                queue = queue_with([dispatch_for(key, size, etag)])
                # Both read the server's file from a warm page cache, so neither pays for the disk.
                warm(s3_root / BUCKET / key)
                ours, ours_wall, ours_rss = timed([str(task)], env=task_env(new_table(), queue))
                ours_wall -= IDLE_SECONDS
                if ours.returncode != 0:
                    sys.exit(f"the task failed: {ours.stderr[-2000:]}")
                manifest = json.loads((s3_root / BUCKET / "processed" / "manifests" / key / "manifest.json").read_text())
                ours_pass = manifest["timings_ms"]["total"] / 1000
                stream_seconds_per_gib.append(ours_pass * (1 << 30) / size)
                warm(s3_root / BUCKET / key)
                reference, ref_wall, ref_rss = timed(
                    ["bash", "-c", f"set -o pipefail; '{aws}' --endpoint-url {s3_endpoint} s3 cp "
                                   f"s3://{BUCKET}/{key} - | openssl dgst -sha256"], env=env)
                if reference.returncode != 0:
                    sys.exit(f"aws s3 cp failed: {reference.stderr[-2000:]}")
                stream_rows.append([f"{size >> 20} MiB", run + 1,
                                    f"{size / 1e6 / ours_pass:.0f}", f"{ours_pass:.2f}", f"{ours_wall:.2f}",
                                    f"{ours_rss:.1f}",
                                    f"{size / 1e6 / ref_wall:.0f}", f"{ref_wall:.2f}", f"{ref_rss:.1f}",
                                    f"{ref_wall / ours_pass:.2f}x",
                                    "yes" if manifest["sha256"] == openssl_sha256(reference) else "NO",
                                    manifest["verification"].get("against", manifest["verification"].get("reason"))])

        burst_rows, burst_summary = [], []
        if args.burst:
            burst_size = parse_size(args.burst_size)
            path = files / f"{burst_size}.bin"
            generate(path, burst_size)
            cli("s3api", "create-bucket", "--bucket", BUCKET)
            keys = [f"burst/{n}.bin" for n in range(args.burst)]
            etags = [put(key, path, moto_endpoint) for key in keys]
            modes = [("one task per file", args.burst, 1),
                     ("queue-fed", args.burst_tasks, args.burst_per_task)]
            for mode, tasks, per_task in modes:
                step(f"(d) {args.burst} x {burst_size >> 20} MiB queued at once: {mode}, "
                     f"{tasks} tasks x {per_task} at once")
                warm(path)
                queue = queue_with([dispatch_for(key, burst_size, etag) for key, etag in zip(keys, etags)])
                table = new_table()
                started = time.perf_counter()
                with ThreadPoolExecutor(max_workers=tasks) as pool:
                    runs = list(pool.map(lambda _: timed([str(task)], env=task_env(table, queue, per_task, True)),
                                         range(tasks)))
                wall = time.perf_counter() - started - IDLE_SECONDS
                if any(done.returncode != 0 for done, _, _ in runs):
                    failed = next(done for done, _, _ in runs if done.returncode)
                    sys.exit(f"a burst task failed: {failed.stderr[:3000]}")
                succeeded = cli("dynamodb", "scan", "--table-name", table, "--select", "COUNT",
                                "--filter-expression", "#stage = :stage AND #status = :status",
                                "--expression-attribute-names", '{"#stage": "stage", "#status": "status"}',
                                "--expression-attribute-values",
                                '{":stage": {"S": "large-file"}, ":status": {"S": "SUCCEEDED"}}')["Count"]
                task_seconds = sum(seconds - IDLE_SECONDS for _, seconds, _ in runs)
                peak_rss = max(rss for _, _, rss in runs)
                burst_rows.append([mode, tasks, per_task, f"{succeeded}/{args.burst}", f"{wall:.1f}",
                                   f"{task_seconds:.1f}", f"{task_seconds / args.burst:.2f}", f"{peak_rss:.0f}"])
                burst_summary.append((mode, tasks, per_task, task_seconds))
    finally:
        for server in servers:
            server.terminate()
            server.wait()

    print("\n(a) SHA-256 of a local file: our pipeline vs openssl (MB/s = 10^6 bytes/s; best of runs)")
    print_table(["cache", "tool", "MB/s", "seconds", "peak RSS MB", "speed vs openssl", "same digest"], hash_rows)
    print(f"\n(b)+(c) the task streaming from s3s-fs (part size {args.part_size}, parallelism {args.parallelism}) "
          "vs aws s3 cp - | openssl dgst -sha256; the pass by its manifest, the run start to exit "
          "(s3s-fs takes no tags: the verdict's retries, ~2 s, are in it)")
    print_table(["size", "run", "pass MB/s", "pass s", "task run s", "task RSS MB", "ref MB/s", "ref s",
                 "ref RSS MB", "pass speed vs ref", "same sha256", "task verified against"], stream_rows)
    if burst_rows:
        burst_size = parse_size(args.burst_size)
        print(f"\n(d) a burst of {args.burst} x {burst_size >> 20} MiB queued at once (task time less its "
              f"{IDLE_SECONDS} s idle wait; this machine has {os.cpu_count()} cores)")
        print_table(["mode", "tasks", "at once per task", "SUCCEEDED", "wall s", "task-seconds",
                     "task-seconds per file", "peak RSS MB per task"], burst_rows)
        # A file's work: one task streaming alone, from (b) (the burst's task-seconds include this
        # machine's contention: all its streams share its cores, where each Fargate task has its
        # own vCPU), scaled to 1 GiB; the burst's own figure when (b) did not run.
        _, tasks, per_task, task_seconds = burst_summary[-1]
        if stream_seconds_per_gib:
            work_per_gib, source = min(stream_seconds_per_gib), "(b): one pass streaming alone"
        else:
            work_per_gib = task_seconds / args.burst * (1 << 30) / burst_size
            source = "the queue-fed burst, contention included"
        print(f"\nCost per 1,000 x 1 GiB at list prices: {work_per_gib:.1f} s of work per file (from {source}, "
              f"scaled to 1 GiB), {FARGATE_START_SECONDS} s of task start billed per task (assumed), "
              f"a minute's minimum, Spot at {100 - SPOT_FACTOR * 100:.0f}% off (assumed); compute only")
        cost_rows = []
        for mode, tasks_per_1000 in [("one task per file", 1000), (f"queue-fed, {tasks} tasks", tasks),
                                     ("queue-fed, 10 tasks (default max_tasks)", 10)]:
            cost = fargate_cost_per_1000(tasks_per_1000, work_per_gib)
            cost_rows.append([mode, tasks_per_1000, f"${cost['x86_64']:.2f}", f"${cost['ARM64']:.2f}",
                              f"${cost['x86_64'] * SPOT_FACTOR:.3f}", f"${cost['ARM64'] * SPOT_FACTOR:.3f}"])
        print_table(["mode", "tasks", "x86_64", "ARM64", "x86_64 Spot", "ARM64 Spot"], cost_rows)


if __name__ == "__main__":
    main()
