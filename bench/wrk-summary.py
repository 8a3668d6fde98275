#!/usr/bin/env python3
"""Reads wrk --latency output; prints "requests/s p50_ms p99_ms non-2xx-or-3xx socket-errors"."""
import re
import sys

text = sys.stdin.read()


def ms(label):
    m = re.search(r"^\s*" + re.escape(label) + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        return 0.0
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
socket_errors = sum(int(n) for n in errors.groups()) if errors else 0
if rps == 0:
    socket_errors += 1  # nothing answered in time: an error, not a figure
print(f"{rps:.0f} {ms('50%'):.3f} {ms('99%'):.3f} {int(bad.group(1)) if bad else 0} {socket_errors}")
