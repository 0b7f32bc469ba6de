#!/bin/bash
# Probes the release server for Leptos' server-side rendering deadlock (leptos-rs/leptos#4673;
# ARCHITECTURE.md, "Rendering"): starts a fresh server TRIES times (default 10), signs in as Ann
# and as the admin, GETs each page given (default: the heaviest ones) with a 5 s limit, and
# reports every page that never arrived. A hung server is left running for `gdb -p PID -batch
# -ex "thread apply all bt"` when KEEP=1.
#   scripts/ssr-probe.sh [PATH ...]     (needs target/release/handoff-server)
set -u
cd "$(dirname "$0")/.."
PORT=${PORT:-3999}; B=http://127.0.0.1:$PORT; DIR=$(mktemp -d)
pages=("$@"); [ ${#pages[@]} -eq 0 ] && pages=(/conversations /settings/ai /admin /settings/widgets "/conversations?filter=mine")
hung=0
for i in $(seq 1 "${TRIES:-10}"); do
  [ -n "${PID:-}" ] && kill -9 "$PID" 2>/dev/null; sleep 0.3; rm -rf "$DIR/data"; mkdir -p "$DIR/data"
  HANDOFF_DATA_DIR="$DIR/data" HANDOFF_SEED_DEMO=true HANDOFF_DEMO_PASSWORD=handoff-demo LEPTOS_SITE_ADDR=127.0.0.1:$PORT \
    setsid target/release/handoff-server > "$DIR/server.log" 2>&1 < /dev/null &
  PID=$!
  for _ in $(seq 1 25); do curl -s -o /dev/null "$B/healthz" && break; sleep 0.2; done
  for who in ann@demo.test admin@demo.test; do
    timeout 5 curl -s -c "$DIR/jar-$who" -o /dev/null -H "Origin: $B" -d "email=$who&password=handoff-demo" "$B/api/auth/login"
  done
  for p in "${pages[@]}"; do
    for who in ann@demo.test admin@demo.test; do
      if ! timeout 5 curl -s -b "$DIR/jar-$who" -o /dev/null "$B$p"; then
        echo "try $i: $who $p never arrived (server pid $PID)"; hung=$((hung + 1))
        [ "${KEEP:-0}" = 1 ] && { echo "left running: $PID"; exit 1; }
        continue 3
      fi
    done
  done
done
kill -9 "$PID" 2>/dev/null
echo "hung: $hung of ${TRIES:-10} fresh servers"
[ "$hung" -eq 0 ]
