#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) one after another and prints a summary line
# per target: executions, and whether a crash was found (artifacts/<target>/).
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -u
cd "$(dirname "$0")"
secs=${1:-600}
for t in capture decode reassembly tls sip keylog pipeline; do
  len=4096
  case $t in capture|pipeline) len=65536;; esac
  log=logs/$t.log
  mkdir -p logs corpus/$t
  cargo +nightly fuzz run "$t" -O -- -max_total_time="$secs" -max_len="$len" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  crash=$(ls artifacts/$t 2>/dev/null | grep -c -E 'crash|oom|timeout|leak' || true)
  echo "$t: exit $rc, executions ${execs:-?}, crash artifacts ${crash}"
done
