#!/usr/bin/env python3
"""Router start-up: process start to its first poll of the Lambda Runtime API.

Serves a stub Runtime API, starts the router binary 30 times with a complete configuration and
reports the time from spawn to its first GET /runtime/invocation/next.
Usage: scripts/bench-router-startup.py [target/release/router]
"""
import http.server
import os
import statistics
import subprocess
import sys
import threading
import time

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/router"
first = threading.Event()


class StubRuntimeApi(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        first.set()
        # Answer slowly with an error: the router is killed before it polls again.
        time.sleep(0.2)
        self.send_response(500); self.end_headers()
    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StubRuntimeApi)
threading.Thread(target=srv.serve_forever, daemon=True).start()
env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{srv.server_address[1]}", AWS_LAMBDA_FUNCTION_NAME="router",
  AWS_LAMBDA_FUNCTION_VERSION="1", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256", AWS_REGION="us-east-1",
  AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", TRIAGE_ENVIRONMENT="dev", TRIAGE_AUDIT_TABLE="a",
  TRIAGE_NOTIFICATIONS_TOPIC_ARN="arn:aws:sns:us-east-1:1:n", TRIAGE_THUMBNAIL_FUNCTION="t", TRIAGE_EXTRACTOR_QUEUE_URL="http://q",
  TRIAGE_COMPLIANCE_TOPIC_ARN="arn:aws:sns:us-east-1:1:c", TRIAGE_LARGE_CLUSTER="c", TRIAGE_LARGE_TASK_DEFINITION="d",
  TRIAGE_LARGE_QUEUE_URL="https://sqs.us-east-1.amazonaws.com/1/large", TRIAGE_LARGE_SUBNETS="s",
  TRIAGE_LARGE_SECURITY_GROUPS="g")
samples = []
for _ in range(30):
    first.clear()
    t0 = time.perf_counter()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first.wait(10); samples.append((time.perf_counter() - t0) * 1000)
    p.kill(); p.wait()
samples.sort()
print(f"n={len(samples)} median={statistics.median(samples):.1f} ms p90={samples[int(len(samples)*0.9)]:.1f} ms min={samples[0]:.1f} ms")
