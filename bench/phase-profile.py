"""Splits perf samples (`perf script -F comm,time,sym`) by the phases a benchmark wrote
("phase BACKEND SIDE START END" lines): per phase, CPU per item by thread and the top functions.
Usage: phase-profile.py PHASES SAMPLES SAMPLE_HZ ITEMS_PER_PHASE"""
import collections
import re
import sys

phases_file, samples_file, hz, items = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
phases = collections.defaultdict(list)  # "SQLite keyport" -> [(start, end)]
for line in open(phases_file):
    if line.startswith("phase "):
        _, backend, side, start, end = line.split()
        phases[f"{backend} {side}"].append((float(start), float(end)))

threads = {name: collections.Counter() for name in phases}
symbols = {name: collections.Counter() for name in phases}
sample = re.compile(r"\s*(.+?)\s+([\d.]+):\s+(.*)$")
for line in open(samples_file):
    m = sample.match(line)
    if not m:
        continue
    comm, at, symbol = m.group(1), float(m.group(2)), m.group(3).strip() or "[unknown]"
    for name, spans in phases.items():
        if any(start <= at <= end for start, end in spans):
            # Threads by role: the process's main thread runs the worker's senders (or the
            # bare client), tokio's blocking pool runs the database, actix the receiver.
            role = {"tokio-rt-worker": "database"}.get(comm, "receiver" if comm.startswith("actix") else "senders")
            threads[name][role] += 1
            symbols[name][symbol[:100]] += 1
            break

for name, spans in phases.items():
    total = sum(threads[name].values())
    wall = sum(end - start for start, end in spans)
    n = items * len(spans)
    print(f"{name}: {n} deliveries in {wall:.3f} s; CPU {1e6 * total / hz / n:.1f} µs per delivery "
          f"({total / hz / wall:.0%} of the core busy)")
    for role, count in threads[name].most_common():
        print(f"    {role:9} {1e6 * count / hz / n:5.1f} µs per delivery")
    for symbol, count in symbols[name].most_common(12):
        print(f"    {100 * count / total:5.1f}%  {symbol}")
