#!/usr/bin/env bash
# Compares two siptriage binaries on every fixture, in every format, plain, with the key logs
# beside the captures, and redacted: prints each run whose output differs and a count.
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
echo "$n compared, $bad differ"
[ "$bad" -eq 0 ]
