#!/usr/bin/env python3
"""report_browser.py - opens an HTML report in headless Chromium and checks that it renders.

Usage: python3 tests/report_browser.py REPORT.html SCREENSHOT.png PLOT_ID...

Talks to Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe: commands on
fd 3, replies on fd 4, each a JSON message ended by a NUL byte), standard library only. Loads the
page with the network off, then checks:
  - no console error or warning, no uncaught exception, no failed or blocked load (Log domain);
  - the page's own inline script ran (it sets body[data-rendered] to the number of plots);
  - every PLOT_ID is an <svg class="plot"> that rendered with a non-empty size and has text;
  - every picture decoded (img.complete and naturalWidth > 0);
and saves a full-page screenshot, 1280 px wide. Prints one line per check ("ok ..." or
"FAIL ..."), exits 1 if any failed. Exits 77 with "skipped: REASON" when Chromium is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import base64

WIDTH = 1280
TIMEOUT = 60


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, exe, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Chromium reads fd 3 and writes fd 4 of its own process
        def child_fds():  # through fresh copies: dup2 onto itself would keep close-on-exec
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--user-data-dir=" + profile, "--window-size=%d,1000" % WIDTH, "about:blank"]
        # close_fds=False: Popen would otherwise close fds 3 and 4 after child_fds ran
        self.proc = subprocess.Popen(args, preexec_fn=child_fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self):
        while b"\0" not in self.buf:
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe: " + self.proc.stderr.read(2000).decode(errors="replace"))
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read_message()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method):
        for i, m in enumerate(self.events):
            if m.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self._read_message()
            if m.get("method") == method:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


PROBE = """JSON.stringify({
  rendered: document.body.getAttribute('data-rendered'),
  error: document.body.getAttribute('data-error'),
  status: (document.getElementById('report-status') || {}).textContent,
  height: Math.ceil(document.documentElement.scrollHeight),
  plots: Array.prototype.map.call(document.querySelectorAll('svg.plot'), function (s) {
    var r = s.getBoundingClientRect();
    return {id: s.id, w: r.width, h: r.height, texts: s.querySelectorAll('text').length};
  }),
  images: Array.prototype.map.call(document.images, function (i) {
    return {ok: i.complete, w: i.naturalWidth};
  }),
  panels: Array.prototype.map.call(document.querySelectorAll('svg.detections image'), function (i) {
    var r = i.getBoundingClientRect();
    return {w: r.width, h: r.height};
  })
})"""


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    page, shot, want = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3:]
    exe = find_chromium()
    if not exe:
        print("skipped: chromium is not installed (make test installs the Debian package chromium)")
        return 77
    failures = 0

    def check(ok, what):
        nonlocal failures
        print(("ok " if ok else "FAIL ") + what)
        failures += not ok

    profile = tempfile.mkdtemp(prefix="tta-chromium-")
    b = Browser(exe, profile)
    try:
        target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            b.send(domain + ".enable", session=s)
        # nothing may be fetched: the network is off, so a reference out would fail loudly
        b.send("Network.emulateNetworkConditions",
               {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}, session=s)
        b.send("Page.navigate", {"url": "file://" + page}, session=s)
        b.wait_event("Page.loadEventFired")
        r = json.loads(b.send("Runtime.evaluate", {"expression": PROBE, "returnByValue": True},
                              session=s)["result"]["value"])
        # console output, exceptions, failed loads, collected while the page loaded
        problems = []
        for m in b.events:
            p, meth = m.get("params", {}), m.get("method")
            if meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                problems.append("console %s: %s" % (p["type"], [a.get("value") for a in p.get("args", [])]))
            elif meth == "Runtime.exceptionThrown":
                problems.append("exception: %s" % p.get("exceptionDetails", {}).get("text"))
            elif meth == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                problems.append("log %s: %s" % (p["entry"]["level"], p["entry"].get("text")))
            elif meth == "Network.loadingFailed":
                problems.append("load failed: %s" % p.get("errorText"))
        check(not problems, "no console errors, exceptions or failed loads" + ("" if not problems else ": " + "; ".join(problems[:5])))
        check(not r["error"], "no script error (%s)" % r["error"])
        n_plots = len(r["plots"])
        check(r["rendered"] == str(n_plots), "the page's script ran (%s)" % r["status"])
        by_id = {p["id"]: p for p in r["plots"]}
        for pid in want:
            p = by_id.get(pid)
            check(p is not None and p["w"] > 100 and p["h"] > 100 and p["texts"] >= 5,
                  "plot %s rendered (%s)" % (pid, p))
        bad_images = [i for i in r["images"] if not (i["ok"] and i["w"] > 0)]
        check(not bad_images, "%d pictures decoded (%d did not)" % (len(r["images"]), len(bad_images)))
        if r["panels"]:
            check(all(p["w"] > 0 and p["h"] > 0 for p in r["panels"]), "%d detection panels laid out" % len(r["panels"]))
        height = min(max(r["height"], 400), 16000)
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=s)
        png = b.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=s)["data"]
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png))
        check(os.path.getsize(shot) > 1000, "screenshot %s (%d x %d)" % (shot, WIDTH, height))
    finally:
        b.close()
        shutil.rmtree(profile, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
