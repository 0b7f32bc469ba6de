#!/usr/bin/env bash
# Builds and serves Handoff on embedded SQLite (./data), with the demo organization seeded.
# Installs missing tools first (idempotent). Prints the URLs and the demo login when ready.
# For development with live reload, use `cargo leptos watch` instead (after one run of this).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh
export PATH="$HOME/.cargo/bin:${HANDOFF_TOOLS_DIR:-$HOME/.cache/handoff-tools}/node_modules/.bin:$PATH"
exec cargo leptos serve --release
