#!/usr/bin/env bash
# The sensor's capacity: the highest packet rate at which `siptriage watch` keeps up with a
# cluster's traffic without dropping a packet. As root (it builds a veth pair with one end in a
# network namespace of its own, and removes both at the end):
#
#   sudo scripts/capacity.sh [RATE ...]        # packets per second; default below
#
# The capture is the cluster mix (cluster --tls: 10 % port mismatch, 5 % rejected token, 5 %
# closed port, the rest healthy; SIP in TLS 1.2 with its key log given to the sensor, so every
# record is decrypted), DEVICES devices (default 24000) for SECONDS (default 900). For each rate
# a fresh release sensor captures on the inner end (`watch -i … --promiscuous --keylog …`,
# --buffer $BUFFER MiB, default 64) while tcpreplay sends the whole capture into the outer end at that rate;
# then the sensor is stopped and its report read. Prints, per rate: the rate tcpreplay reached,
# packets sent, read and dropped (libpcap's counters), the sensor's CPU seconds and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${DEVICES:-24000}
seconds=${SECONDS_LONG:-900}
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(25000 50000 100000 150000 200000 300000)
[ "$(id -u)" = 0 ] || { echo "capacity.sh: needs root (veth pairs, network namespaces)" >&2; exit 2; }
command -v tcpreplay >/dev/null || { echo "capacity.sh: needs tcpreplay (apt-get install tcpreplay)" >&2; exit 2; }

cargo build --release --locked --quiet --bin siptriage -p siptriage
cargo build --release --locked --quiet -p siptriage-dev --bin cluster
work=${WORK:-/tmp/siptriage-capacity}
mkdir -p "$work"
pcap=$work/cluster-$devices-$seconds.pcap
if [ ! -s "$pcap" ]; then
  target/release/cluster --devices "$devices" --seconds "$seconds" --seed 1 --tls -o "$pcap" >&2
fi
keys=${pcap%.pcap}.keys
frames=$(target/release/siptriage analyze -q --format json --max-connections 50000 --keylog "$keys" "$pcap" -o "$work/analyze.json" >/dev/null 2>&1; python3 -c "import json,sys; print(json.load(open('$work/analyze.json'))['captures'][0]['frames'])")

ns=st-capacity-$$
outer=stcapo$$
inner=stcapi$$
cleanup() {
  ip link del "$outer" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip link add "$outer" type veth peer name "$inner"
ip link set "$inner" netns "$ns"
ip link set "$outer" up
ip -n "$ns" link set "$inner" up

printf '%s frames in %s (%s devices, %s s)\n' "$frames" "$pcap" "$devices" "$seconds"
printf '%10s %12s %10s %10s %10s %8s %9s\n' requested reached sent read dropped cpu_s rss_mib
for rate in "${rates[@]}"; do
  report=$work/report-$rate.json
  rm -f "$report"
  ip netns exec "$ns" target/release/siptriage watch -i "$inner" --promiscuous -q \
    --keylog "$keys" --max-connections 50000 --buffer "${BUFFER:-64}" --fail-on never \
    -o /dev/null --summary "$report" &
  pid=$!
  sleep 2
  out=$(tcpreplay -i "$outer" --pps="$rate" "$pcap" 2>&1)
  sleep 2
  cpu=$(awk '{printf "%.1f", ($14+$15)/100}' "/proc/$pid/stat")
  rss=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$pid/status")
  kill -INT "$pid"
  wait "$pid" || true
  sent=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' <<<"$out")
  reached=$(sed -n 's/.*Rated: .*Mbps, \([0-9.]*\) pps.*/\1/p' <<<"$out")
  read -r got dropped < <(python3 - "$report" <<'EOF'
import json, re, sys
r = json.load(open(sys.argv[1]))
frames = r["captures"][0]["frames"]
drop = 0
for n in r["notes"]:
    m = re.search(r"(\d+) packet\(s\) were dropped", n)
    if m:
        drop = int(m.group(1))
print(frames, drop)
EOF
)
  printf '%10s %12s %10s %10s %10s %8s %9s\n' "$rate" "${reached:-?}" "${sent:-?}" "$got" "$dropped" "$cpu" "$rss"
done
