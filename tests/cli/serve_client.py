#!/usr/bin/env python3
"""serve_client.py - the parts of tests/cli/test_serve.sh that curl cannot do: concurrent
requests, a client that sends a byte every half second, and a request held half-sent while the
server is told to stop. Standard library only.

    serve_client.py concurrent PORT THREADS FILE...  one line per request: FILE STATUS CLASS
    serve_client.py slow PORT SECONDS                 "cut" if the server closed it, else "answered STATUS"
    serve_client.py inflight PORT FILE GO_FILE        sends half the body, prints "started", waits for
                                                      GO_FILE to exist, sends the rest: "STATUS CLASS"
"""
import http.client
import json
import os
import socket
import sys
import threading
import time


def post(port, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/v1/predict", body=body, headers={"Content-Type": "image/png"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def label(data):
    try:
        return json.loads(data)["results"][0]["label"]
    except Exception:
        return "-"


def concurrent(port, threads, files):
    bodies = [open(f, "rb").read() for f in files]
    out = [None] * threads
    go = threading.Barrier(threads)

    def one(i):
        go.wait()
        try:
            s, d = post(port, bodies[i % len(bodies)])
            out[i] = "%s %d %s" % (os.path.basename(files[i % len(files)]), s, label(d).replace(" ", "_"))
        except Exception as e:  # a refused or reset connection is a failure the test reports
            out[i] = "%s error %s" % (os.path.basename(files[i % len(files)]), type(e).__name__)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("\n".join(out))


def slow(port, seconds):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n")
    end = time.time() + seconds
    try:
        while time.time() < end:
            s.sendall(b"x")
            time.sleep(0.5)
        data = s.recv(200)
    except OSError:
        data = b""
    if data.startswith(b"HTTP/1.1 "):
        print("answered " + data[9:12].decode())
    else:
        print("cut")


def inflight(port, path, go_file):
    body = open(path, "rb").read()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n" % len(body)
    s.sendall(head.encode() + body[: len(body) // 2])
    print("started", flush=True)
    for _ in range(600):
        if os.path.exists(go_file):
            break
        time.sleep(0.05)
    s.sendall(body[len(body) // 2 :])
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            length = [l for l in data[:head_end].split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if length and len(data) - head_end - 4 >= int(length[0].split(b":")[1]):
                break
    status = data[9:12].decode() if data.startswith(b"HTTP/1.1 ") else "none"
    print(status, label(data[data.find(b"\r\n\r\n") + 4 :]).replace(" ", "_"))


if __name__ == "__main__":
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "concurrent":
        concurrent(port, int(sys.argv[3]), sys.argv[4:])
    elif cmd == "slow":
        slow(port, float(sys.argv[3]))
    elif cmd == "inflight":
        inflight(port, sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown command " + cmd)
