#!/usr/bin/env bash
# Builds siptriage for another target and checks it against the host build: the same JSON
# (byte for byte; on Windows apart from path separators) and the same exit code on every
# fixture (with and without its key log), on every log rendered from the fixtures (each file
# alone and the three as one set), and on the inputs users of that platform meet: paths with
# spaces and non-ASCII letters, backslashes, absolute paths, a zipped problem report with CRLF
# lines, a capture on standard input. It also checks that `watch -i` without libpcap exits 2
# saying what to install, and that the musl binary is static.
#
#   scripts/cross-check.sh musl      # x86_64-unknown-linux-musl (Debian: musl-tools)
#   scripts/cross-check.sh windows   # x86_64-pc-windows-gnu under Wine (Debian:
#                                    # gcc-mingw-w64-x86-64, wine64)
#
# Each needs `rustup target add` of its target. PROFILE=release checks release builds (the
# default, dev, is enough to compare results and is what .ci/run uses). Windows runs share one
# Wine session (a wineserver kept for the whole check).
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:?usage: scripts/cross-check.sh musl|windows}
profile=${PROFILE:-dev}
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
case $kind in
  musl) target=x86_64-unknown-linux-musl; exe=target/$target/$dir/siptriage ;;
  windows) target=x86_64-pc-windows-gnu; exe=target/$target/$dir/siptriage.exe ;;
  *) echo "usage: scripts/cross-check.sh musl|windows" >&2; exit 2 ;;
esac
host=target/$dir/siptriage
render=target/$dir/render-logs

start=$SECONDS
cargo build --locked --profile "$profile" --bin siptriage
cargo build --locked --profile "$profile" -p siptriage-dev --bin render-logs
cargo build --locked --profile "$profile" --target "$target" --bin siptriage
echo "built $exe ($(du -k "$exe" | cut -f1) KiB) in $((SECONDS - start)) s"

work=target/cross-check/$kind
rm -rf "$work"
mkdir -p "$work/host" "$work/other" "$work/cases"

if [ "$kind" = windows ]; then
  # Rust's standard library imports ProcessPrng, which Wine 8.0 lacks: a stand-in beside the
  # .exe (scripts/wine/bcryptprimitives.c); Windows itself has the real one.
  x86_64-w64-mingw32-gcc -shared -O2 -o "$(dirname "$exe")/bcryptprimitives.dll" \
    scripts/wine/bcryptprimitives.c -ladvapi32
  export WINEDEBUG=-all WINEPREFIX=${WINEPREFIX:-$PWD/target/cross-check/wineprefix}
  mkdir -p "$WINEPREFIX"
  # One Wine session for every run: the server stays up until the check ends (it is already
  # up when an earlier run left it).
  wineserver -p 2>/dev/null || true
  trap 'wineserver -k >/dev/null 2>&1 || true' EXIT
  # The first run makes the prefix (about 20 s).
  wineboot -i >/dev/null 2>&1 || true
  winuser=$(ls "$WINEPREFIX/drive_c/users" | { grep -v -x Public || true; } | head -n1)
else
  # A static binary: no program interpreter and no shared library needed.
  if readelf -l "$exe" | grep -q INTERP || readelf -d "$exe" | grep -q NEEDED; then
    echo "FAIL: $exe is not statically linked:" >&2
    readelf -d "$exe" | grep NEEDED >&2 || true
    exit 1
  fi
  echo "static: $(file -b "$exe" | grep -o 'static[^,]*')"
fi

# Runs the other target's binary; on Windows each argument's slashes become backslashes, as a
# Windows user types them (the arguments here are relative paths, options and `-`).
other() {
  if [ "$kind" = windows ]; then
    local args=() arg
    for arg in "$@"; do args+=("${arg//\//\\}"); done
    wine "$exe" "${args[@]}"
  else
    "$exe" "$@"
  fi
}

# What the Windows JSON says differently by nature: `\` (escaped as `\\`) for `/`.
normalize() {
  if [ "$kind" = windows ]; then
    sed -e 's#\\\\#/#g' "$1"
  else
    cat "$1"
  fi
}

n=0
bad=0
# compare NAME ARGS...: the same run with both binaries, stdout as JSON and the exit code.
compare() {
  local name=$1
  shift
  local a b
  a=0; "$host" "$@" >"$work/host/$name.json" 2>"$work/host/$name.err" || a=$?
  b=0; other "$@" >"$work/other/$name.json" 2>"$work/other/$name.err" || b=$?
  # siptriage never ends without a word (a report, or a message on stderr): a run that says
  # nothing failed to start (Wine, rarely, under load) and is run again, at most twice.
  for _ in 1 2; do
    if [ "$b" != 0 ] && [ ! -s "$work/other/$name.json" ] && [ ! -s "$work/other/$name.err" ]; then
      echo "retried: $name (the run ended with exit $b and no word)"
      b=0; other "$@" >"$work/other/$name.json" 2>"$work/other/$name.err" || b=$?
    fi
  done
  n=$((n + 1))
  # Nothing on stdout only when nothing could be read (exit 2): the comparison is of reports.
  if [ ! -s "$work/host/$name.json" ] && [ "$a" != 2 ]; then
    bad=$((bad + 1))
    echo "no report: $name (exit $a): siptriage $*"
  elif [ "$a" != "$b" ] || ! cmp -s <(normalize "$work/other/$name.json") "$work/host/$name.json"; then
    bad=$((bad + 1))
    echo "differs: $name (exit $a here, $b on $kind): siptriage $*"
    diff <(normalize "$work/other/$name.json") "$work/host/$name.json" | head -n 20 || true
  fi
}

trust=fixtures/trust/both-cas.pem
for f in fixtures/*.pcap fixtures/*.pcapng; do
  base=$(basename "$f")
  compare "$base" analyze --format json --trust "$trust" "$f"
  compare "$base.keys" analyze --format json --keylog auto --trust "$trust" "$f"
  # The logs this capture renders: each file alone, and the three as one set.
  stem=${base%.*}
  logs=$work/cases/logs/$base
  mkdir -p "$logs"
  keys=()
  [ -f "fixtures/$stem.keys" ] && keys=(--keylog "fixtures/$stem.keys")
  if "$render" "$f" "${keys[@]}" -o "$logs" >/dev/null 2>&1; then
    for l in "$logs"/*; do
      compare "$base.$(basename "$l")" analyze --format json "$l"
    done
    compare "$base.logs" analyze --format json "$logs"
  fi
done

# Names with spaces and non-ASCII letters, the key log found beside the capture.
odd="$work/cases/Ticket 4711 – Zürich/Jabber Prüfung"
mkdir -p "$odd"
cp fixtures/oauth-port-mismatch-tls12.pcap "$odd/capture à 09h15.pcap"
cp fixtures/oauth-port-mismatch-tls12.keys "$odd/capture à 09h15.keys"
compare names analyze --format json --keylog auto "$odd/capture à 09h15.pcap"
compare names-folder analyze --format json --keylog auto "$work/cases/Ticket 4711 – Zürich"

# A problem report as Jabber writes it on Windows: CRLF lines, zipped, with a space in its name.
prt=$work/cases/prt
mkdir -p "$prt"
"$render" fixtures/oauth-port-mismatch-tls12.pcap --keylog fixtures/oauth-port-mismatch-tls12.keys \
  -o "$prt" >/dev/null
sed -i 's/$/\r/' "$prt/jabber.log"
(cd "$prt" && zip -q "../PRT 2026-03-02.zip" jabber.log)
compare crlf-zip analyze --format json "$work/cases/PRT 2026-03-02.zip"
# The CRLF report finds what the LF one does (the same findings, the log named differently).
mkdir -p "$work/cases/lf"
"$render" fixtures/oauth-port-mismatch-tls12.pcap --keylog fixtures/oauth-port-mismatch-tls12.keys \
  -o "$work/cases/lf" >/dev/null
ids() { grep -o '"id": "[a-z0-9-]*"' "$1" | sort | uniq -c; }
"$host" analyze --format json "$work/cases/lf/jabber.log" >"$work/host/lf.json" || true
n=$((n + 1))
if [ -z "$(ids "$work/host/lf.json")" ] || ! diff <(ids "$work/host/lf.json") <(ids "$work/other/crlf-zip.json") >/dev/null; then
  bad=$((bad + 1))
  echo "differs: the CRLF problem report's findings from the LF log's"
fi

# A capture on standard input (read as bytes).
n=$((n + 1))
a=0; "$host" analyze --format json - <fixtures/mra-unknown-ca-from-ucm.pcap >"$work/host/stdin.json" || a=$?
b=0; other analyze --format json - <fixtures/mra-unknown-ca-from-ucm.pcap >"$work/other/stdin.json" || b=$?
if [ "$a" != "$b" ] || ! cmp -s "$work/host/stdin.json" "$work/other/stdin.json"; then
  bad=$((bad + 1))
  echo "differs: a capture on standard input (exit $a here, $b on $kind)"
fi

if [ "$kind" = windows ]; then
  # An absolute path under the user's profile, as Explorer gives it.
  dl="$WINEPREFIX/drive_c/users/$winuser/Downloads"
  mkdir -p "$dl"
  cp "$work/cases/PRT 2026-03-02.zip" "$dl/PRT Müller.zip"
  n=$((n + 1))
  a=0; "$host" analyze --format json "$dl/PRT Müller.zip" >"$work/host/abs.json" || a=$?
  b=0; wine "$exe" analyze --format json "C:\\users\\$winuser\\Downloads\\PRT Müller.zip" \
    >"$work/other/abs.json" 2>"$work/other/abs.err" || b=$?
  if [ "$a" != "$b" ] || ! cmp -s <(normalize "$work/other/abs.json" | sed "s#C:/users/$winuser/Downloads#DIR#g") \
    <(sed "s#$dl#DIR#g" "$work/host/abs.json"); then
    bad=$((bad + 1))
    echo "differs: an absolute Windows path (exit $a here, $b on $kind)"
    cat "$work/other/abs.err"
  fi
fi

# Live capture without libpcap: exit 2 and what to install. (Wine has a wpcap.dll of its own,
# so the library named is one that is not there; a static binary cannot load any.)
n=$((n + 1))
code=0
SIPTRIAGE_LIBPCAP=no-such-libpcap other watch -i lo -q --duration 1 >/dev/null 2>"$work/other/watch.err" || code=$?
want=$([ "$kind" = windows ] && echo "install Npcap" || echo "statically linked")
if [ "$code" != 2 ] || ! grep -q "$want" "$work/other/watch.err"; then
  bad=$((bad + 1))
  echo "watch -i without libpcap: exit $code, wanted 2 and \"$want\":"
  cat "$work/other/watch.err"
fi

# Ctrl-C (SIGINT; under Wine the console's Ctrl-C event) stops a sensor cleanly: the summary
# event is written and the exit code is the verdict's.
n=$((n + 1))
other watch --replay fixtures/registration-lost.pcap --speed 0.001 \
  >"$work/other/ctrlc.jsonl" 2>"$work/other/ctrlc.err" &
waiter=$!
for _ in $(seq 300); do
  grep -q "stop with Ctrl-C" "$work/other/ctrlc.err" && break
  sleep 0.1
done
pkill -INT -f "$(basename "$exe") watch --replay" || true
code=0
wait "$waiter" || code=$?
if [ "$code" != 0 ] || ! tail -n1 "$work/other/ctrlc.jsonl" | grep -q '"type":"summary"'; then
  bad=$((bad + 1))
  echo "Ctrl-C did not stop the sensor cleanly (exit $code):"
  cat "$work/other/ctrlc.err"
fi

echo "$kind: $n compared, $bad differ ($((SECONDS - start)) s)"
[ "$bad" -eq 0 ]
