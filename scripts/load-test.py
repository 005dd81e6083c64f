#!/usr/bin/env python3
"""Load test of a running `swiftlet serve`: N concurrent clients for D seconds (stdlib only).

Each client sends requests back to back (Cog POST /predictions, or OpenAI /v1/chat/completions
with --openai) and records status and latency. Reports successes, at-capacity answers (409/429),
other statuses and lost requests (connection errors, timeouts), throughput, latency percentiles,
and the server's resident memory (from /metrics) before, at the end, and after a settle pause.

    scripts/load-test.py --url http://127.0.0.1:5000 --clients 32 --seconds 60 [--openai] [--max-tokens 16]
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse


def rss(base):
    u = urllib.parse.urlparse(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request("GET", "/metrics")
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith("swiftlet_resident_memory_bytes"):
            return float(line.split()[-1]) / 1048576
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:5000")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--openai", action="store_true")
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    if a.openai:
        path = "/v1/chat/completions"
        body = json.dumps({"messages": [{"role": "user", "content": "Tell me about the sea."}], "max_tokens": a.max_tokens})
    else:
        path = "/predictions"
        body = json.dumps({"input": {"prompt": "Tell me about the sea.", "max_new_tokens": a.max_tokens}})
    lock = threading.Lock()
    results = []  # (status or error string, seconds)
    # One request first, so the model's pages are resident before "before" is read.
    warm = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    warm.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    warm.getresponse().read()
    warm.close()
    before = rss(a.url)
    deadline = time.time() + a.seconds

    def client():
        conn = None
        while time.time() < deadline:
            t0 = time.time()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                status = r.status
                if r.getheader("connection", "").lower() == "close":
                    conn.close(); conn = None
            except Exception as e:  # a lost request
                status = "error: " + type(e).__name__
                if conn is not None:
                    conn.close()
                conn = None
            with lock:
                results.append((status, time.time() - t0))
            if status in (409, 429, 503):
                time.sleep(0.05)  # a well-behaved client backs off a little

    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    end = rss(a.url)
    time.sleep(5)
    settled = rss(a.url)

    ok = sorted(s for st, s in results if st == 200)
    busy = sum(1 for st, _ in results if st in (409, 429))
    other = {}
    for st, _ in results:
        if st != 200 and st not in (409, 429):
            other[str(st)] = other.get(str(st), 0) + 1

    def pct(p):
        return ok[min(len(ok) - 1, int(p / 100 * len(ok)))] if ok else float("nan")

    report = {
        "clients": a.clients, "seconds": round(elapsed, 1), "route": path, "max_tokens": a.max_tokens,
        "requests": len(results), "succeeded": len(ok), "at_capacity": busy, "other": other,
        "lost": sum(v for k, v in other.items() if k.startswith("error")),
        "throughput_rps": round(len(ok) / elapsed, 2),
        "latency_s": {"p50": round(pct(50), 3), "p95": round(pct(95), 3), "p99": round(pct(99), 3)},
        "rss_mb": {"before": round(before, 1), "end": round(end, 1), "after_5s": round(settled, 1)},
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
