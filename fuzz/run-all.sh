#!/usr/bin/env bash
# Fuzzes each target for SECONDS (default 600), one after another, with debug assertions
# (overflow checks) on, and prints a line per target: executions, and crash artifacts found
# (artifacts/<target>/). Seeds come from the recorded fixtures.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Usage: fuzz/run-all.sh [SECONDS] [TARGET...]
set -u
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(capture decode reassembly tls sip keylog pipeline log_jabber log_sdl log_expressway)
mkdir -p logs corpus/capture corpus/pipeline corpus/keylog corpus/sip corpus/tls corpus/log_jabber corpus/log_sdl corpus/log_expressway
# The log layouts are seeded with the logs rendered from two fixtures, and the real Expressway
# log of ../../shared/corpus when it is there.
seed=$(mktemp -d)
for f in oauth-port-mismatch-tls12 healthy-registration-tls12; do
  mkdir -p "$seed/$f"
  cargo run -q --manifest-path ../Cargo.toml -p siptriage-dev --bin render-logs -- \
    "../fixtures/$f.pcap" --keylog "../fixtures/$f.keys" -o "$seed/$f" >/dev/null 2>&1
  cp -n "$seed/$f/jabber.log" "corpus/log_jabber/$f.log" 2>/dev/null
  cp -n "$seed/$f"/SDL*.txt "corpus/log_sdl/" 2>/dev/null
  cp -n "$seed/$f/expressway.txt" "corpus/log_expressway/$f.txt" 2>/dev/null
done
cp -n ../../shared/corpus/logs/*.txt corpus/log_expressway/ 2>/dev/null
rm -rf "$seed"
for f in ../fixtures/*.pcap ../fixtures/*.pcapng; do
  [ "$(stat -c %s "$f")" -lt 20000 ] && cp -n "$f" corpus/capture/ && cp -n "$f" corpus/pipeline/
done
cp -n ../fixtures/*.keys corpus/keylog/ 2>/dev/null
for t in "${targets[@]}"; do
  len=4096
  case $t in capture|pipeline|log_*) len=65536;; esac
  log=logs/$t.log
  mkdir -p corpus/$t
  cargo +nightly fuzz run "$t" -a -O -- -max_total_time="$secs" -max_len="$len" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  crash=$(ls artifacts/$t 2>/dev/null | grep -c -E 'crash|oom|timeout|leak' || true)
  echo "$t: exit $rc, executions ${execs:-?}, crash artifacts ${crash}"
done
