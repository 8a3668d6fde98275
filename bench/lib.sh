# Shared by the bench/ scripts (sourced): tools, a release build, keyport processes pinned to
# one core and the load generator to the other, wrk rounds, medians and RSS.
# shellcheck shell=bash
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PG=${BENCH_POSTGRES_URL:-postgres://root@127.0.0.1:5432}
BIN=target/release/keyport
# The server gets core 0, the load generator core 1 (when the machine has two).
SERVER_CPU=${BENCH_SERVER_CPU:-0}
LOAD_CPU=${BENCH_LOAD_CPU:-1}

ensure_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v taskset >/dev/null || missing+=(util-linux)
  command -v psql >/dev/null || missing+=(postgresql-client)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi
}

# BENCH_BIN=path/to/keyport measures another build (say the one before a change) instead.
build() { if [ -n "${BENCH_BIN:-}" ]; then BIN=$BENCH_BIN; else cargo build --release --quiet; fi; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# A fresh PostgreSQL database named $1; prints its URL.
fresh_pg() {
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
  echo "$PG/$1"
}

# start_keyport URL PORT LOGFILE [flags…]: keyport serve on core $SERVER_CPU; sets SERVER_PID.
start_keyport() {
  local url=$1 port=$2 log=$3; shift 3
  KEYPORT_LOG=warn taskset -c "$SERVER_CPU" "$BIN" serve --database-url "$url" --bind "127.0.0.1:$port" "$@" > "$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && return 0; sleep 0.1; done
  echo "keyport did not start:" >&2; cat "$log" >&2; return 1
}

# wrk_round URL SECONDS CONNECTIONS [header]: prints "requests/s p50_ms p99_ms non2xx errors".
wrk_round() {
  local url=$1 secs=$2 conns=$3 header=${4:-}
  local args=(-t1 -c"$conns" -d"${secs}s" --latency --timeout 10s)
  [ -n "$header" ] && args+=(-H "$header")
  taskset -c "$LOAD_CPU" wrk "${args[@]}" "$url" | python3 bench/wrk-summary.py
}

# median of the numbers on standard input.
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# criterion_median "GROUP/FUNCTION": the median time (ns) criterion measured last.
criterion_median() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"])' \
    "target/criterion/$1/new/estimates.json"
}

# criterion_round BENCH: one short run of a criterion benchmark on the server's core.
criterion_round() {
  taskset -c "$SERVER_CPU" cargo bench --quiet --bench "$1" -- \
    --warm-up-time 1 --measurement-time 2 --noplot >/dev/null 2>&1
}

# verdict VALUE OP TARGET: "met" or "MISSED".
verdict() { python3 -c "import sys; v, t = float(sys.argv[1]), float(sys.argv[3]); print('met' if (v <= t if sys.argv[2] == '<=' else v >= t) else 'MISSED')" "$1" "$2" "$3"; }
