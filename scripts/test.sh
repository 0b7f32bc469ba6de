#!/usr/bin/env bash
# Runs every Handoff test: unit tests, the server's HTTP/WebSocket tests on SQLite and
# PostgreSQL (127.0.0.1:5432, database `test`; mandatory when CI=true), a release build, and the
# Playwright browser suite against it (the self-contained binary, copied alone into an empty
# directory) in Debian's Chromium. Installs missing tools first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh --browser
export PATH="$HOME/.cargo/bin:${HANDOFF_TOOLS_DIR:-$HOME/.cache/handoff-tools}/node_modules/.bin:$PATH"

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

# PostgreSQL is expected on these machines; start it if it is installed but stopped.
if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    sleep 2
  fi
fi

step "unit and server tests (SQLite and PostgreSQL)"
cargo test -p handoff-domain -p handoff-backend -p app -p handoff-server

step "release build (server + dashboard WASM + widget WASM, bundled into target/release/handoff)"
scripts/build-release.sh

# After the release build: `latency` drives target/release/handoff-server in its own process.
step "benchmark smoke run (small; the real figures are in BENCHMARKS.md)"
cargo run -q -p handoff-bench -- latency --conversations 20 --agents 2 --seconds 1 --warmup 1
cargo run -q -p handoff-bench -- inserts --messages 500
cargo run -q -p handoff-bench -- inbox --conversations 2000 --messages 20000 --rounds 5

step "browser tests (Playwright + Chromium)"
(cd end2end && npx playwright test)
