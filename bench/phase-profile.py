"""Splits perf samples (`perf script -F comm,time,ip,sym`) by the phases a benchmark wrote, one
line each: "phase BACKEND SIDE START END ITEMS" (monotonic seconds). For each phase: the CPU per
item, by thread, and the functions it went to.
Usage: phase-profile.py PHASES SAMPLES SAMPLE_HZ"""
import collections
import re
import sys

phases_file, samples_file, hz = sys.argv[1], sys.argv[2], int(sys.argv[3])
phases = collections.defaultdict(list)  # "SQLite keyport" -> [(start, end, items)]
for line in open(phases_file):
    if line.startswith("phase "):
        _, backend, side, start, end, items = line.split()
        phases[f"{backend} {side}"].append((float(start), float(end), int(items)))

threads = {name: collections.Counter() for name in phases}
symbols = {name: collections.Counter() for name in phases}
sample = re.compile(r"\s*(.+?)\s+([\d.]+):\s+(.*)$")
for line in open(samples_file):
    m = sample.match(line)
    if not m:
        continue
    comm, at = m.group(1), float(m.group(2))
    symbol = re.sub(r"^[0-9a-f]+\s*", "", m.group(3).strip()) or "[unknown]"
    for name, spans in phases.items():
        if any(start <= at <= end for start, end, _ in spans):
            # Thread names without their numbers: one line per kind of thread.
            threads[name][re.sub(r"[-:|]?\d+$", "", comm)] += 1
            symbols[name][symbol[:100]] += 1
            break

for name, spans in phases.items():
    total = sum(threads[name].values())
    wall = sum(end - start for start, end, _ in spans)
    items = sum(n for *_, n in spans)
    print(f"{name}: {items} in {wall:.3f} s; CPU {1e6 * total / hz / items:.1f} µs each "
          f"(the core {total / hz / wall:.0%} busy)")
    for thread, count in threads[name].most_common():
        print(f"    {1e6 * count / hz / items:6.1f} µs  thread {thread}")
    for symbol, count in symbols[name].most_common(12):
        print(f"    {100 * count / total:5.1f} %   {symbol}")
