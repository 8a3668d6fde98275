#!/usr/bin/env python3
"""A loopback webhook receiver for benchmarks: answers 204 at once, records when each
webhook-id first arrived and the event's own timestamp, and prints the figures once it has
seen EXPECTED distinct messages (or on SIGTERM)."""
import json, os, signal, sys, threading, time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

expected = int(sys.argv[2])
first_seen = {}
duplicates = 0
lock = threading.Lock()
done = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global duplicates
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        now = time.time()
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()
        msg = self.headers.get("webhook-id")
        sent = datetime.fromisoformat(json.loads(body)["timestamp"].replace("Z", "+00:00")).timestamp()
        with lock:
            if msg in first_seen:
                duplicates += 1
            else:
                first_seen[msg] = (sent, now)
            if len(first_seen) >= expected:
                done.set()

    def log_message(self, *args):
        pass


def report():
    with lock:
        pairs = list(first_seen.values())
    if not pairs:
        print("received nothing")
        return
    latencies = sorted(received - sent for sent, received in pairs)
    start = min(sent for sent, _ in pairs)
    end = max(received for _, received in pairs)
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    print(f"delivered {len(pairs)} of {expected} events, {duplicates} duplicates, {expected - len(pairs)} missing")
    print(f"throughput {len(pairs) / (end - start):.0f} deliveries/s (first commit to last receipt: {end - start:.2f} s)")
    print(f"commit to receipt: p50 {pct(0.50):.1f} ms, p99 {pct(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms")


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
signal.signal(signal.SIGTERM, lambda *_: done.set())
done.wait(timeout=float(os.environ.get("RECEIVER_TIMEOUT", "600")))
report()
