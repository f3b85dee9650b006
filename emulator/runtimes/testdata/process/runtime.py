#!/usr/bin/env python3
"""A test function for the process runtime: a Lambda Runtime API client in a
few lines of standard-library Python. The event's path selects what it does."""

import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

# As Lambda documents it, and as the official runtime clients read it: a
# plain host:port, nothing after it.
API = os.environ["AWS_LAMBDA_RUNTIME_API"]
if not re.fullmatch(r"[A-Za-z0-9.-]+:[0-9]{1,5}", API):
    sys.exit(f"AWS_LAMBDA_RUNTIME_API={API!r} is not host:port")
BASE = "http://" + API + "/2018-06-01/runtime"


def post(path, body):
    req = urllib.request.Request(
        BASE + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as res:
        res.read()


if os.environ.get("INIT_SLEEP"):
    time.sleep(float(os.environ["INIT_SLEEP"]))

# Init lasts until the test creates this file (a minute at most).
if os.environ.get("INIT_UNTIL"):
    for _ in range(6000):
        if os.path.exists(os.environ["INIT_UNTIL"]):
            break
        time.sleep(0.01)

while True:
    with urllib.request.urlopen(BASE + "/invocation/next") as res:
        request_id = res.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(res)
    path = event.get("path", "")
    if path == "/crash":
        os._exit(3)
    if path == "/throw":
        post(f"/invocation/{request_id}/error",
             {"errorMessage": "deliberate failure", "errorType": "ValueError"})
        continue
    if path == "/sleep":
        time.sleep(60)
    if path == "/nap":
        time.sleep(0.3)
    if path == "/initerror":
        # An init error posted during an invocation: the body is the
        # Runtime API's status.
        try:
            post("/init/error", {"errorMessage": "late", "errorType": "Late"})
            body = "202"
        except urllib.error.HTTPError as e:
            body = str(e.code)
        post(f"/invocation/{request_id}/response", {"statusCode": 200, "body": body})
        continue
    if path == "/pid":
        body = str(os.getpid())
    elif path == "/environ":
        body = json.dumps(dict(os.environ))
    elif path == "/cwd":
        body = os.getcwd()
    elif path == "/env":
        body = os.environ.get(event["queryStringParameters"]["name"], "")
    else:
        body = "hello from python " + path
    post(f"/invocation/{request_id}/response", {"statusCode": 200, "body": body})
