#!/usr/bin/env bash
# Compares two siptriage binaries on every fixture, in every format, plain, with the key logs
# beside the captures, and redacted; then on the logs rendered from the fixtures (alone, rotated,
# beside their capture) and the shared corpus's real log: prints each run whose output differs
# and a count.
# For refactors that must keep the outputs byte for byte:
#   git worktree add /tmp/before HEAD && (cd /tmp/before && cargo build)
#   cargo build && scripts/compare-outputs.sh /tmp/before/target/debug/siptriage target/debug/siptriage
set -uo pipefail
cd "$(dirname "$0")/.."
old=$1
new=$2
n=0
bad=0
for f in fixtures/*.pcap fixtures/*.pcapng; do
  [ -n "${LOGS_ONLY:-}" ] && break
  for fmt in text json jsonl markdown html junit; do
    for extra in "" "--keylog auto" "--redact all --keylog auto"; do
      # shellcheck disable=SC2086
      a=$("$old" analyze --format "$fmt" $extra --trust fixtures/trust/both-cas.pem "$f" 2>/dev/null | md5sum)
      # shellcheck disable=SC2086
      b=$("$new" analyze --format "$fmt" $extra --trust fixtures/trust/both-cas.pem "$f" 2>/dev/null | md5sum)
      n=$((n + 1))
      if [ "$a" != "$b" ]; then
        bad=$((bad + 1))
        echo "differs: $f --format $fmt $extra"
      fi
    done
  done
done
# Logs rendered from the recorded captures (alone, rotated into two files, and beside the
# capture without its keys), and the real Expressway log of the shared corpus.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
cargo build -q -p siptriage-dev --bin render-logs
for k in fixtures/*.keys; do
  f=${k%.keys}.pcap
  [ -f "$f" ] || continue
  d="$logs/$(basename "${k%.keys}")"
  mkdir -p "$d"
  target/debug/render-logs "$f" --keylog "$k" -o "$d" >/dev/null 2>&1 || continue
  if [ -f "$d/jabber.log" ]; then
    head -n 40 "$d/jabber.log" >"$d/jabber.log.1"
    tail -n +30 "$d/jabber.log" >"$d/rotated.log"
  fi
done
sets=()
for d in "$logs"/*/; do
  for l in "$d"*; do sets+=("$l"); done
  sets+=("$d jabber-and-capture")
done
for c in ../shared/corpus/logs/*.txt; do [ -f "$c" ] && sets+=("$c"); done
for s in "${sets[@]}"; do
  case "$s" in
    *" jabber-and-capture")
      d=${s% jabber-and-capture}
      [ -f "${d}jabber.log" ] || continue
      args=("${d}jabber.log" "fixtures/$(basename "$d").pcap") ;;
    *) args=("$s") ;;
  esac
  for fmt in text json markdown html; do
    for extra in "" "--redact all"; do
      # shellcheck disable=SC2086
      a=$("$old" analyze --format "$fmt" $extra "${args[@]}" 2>/dev/null | md5sum)
      # shellcheck disable=SC2086
      b=$("$new" analyze --format "$fmt" $extra "${args[@]}" 2>/dev/null | md5sum)
      n=$((n + 1))
      if [ "$a" != "$b" ]; then
        bad=$((bad + 1))
        echo "differs: ${args[*]} --format $fmt $extra"
      fi
    done
  done
done
echo "$n compared, $bad differ"
[ "$bad" -eq 0 ]
