#!/usr/bin/env bash
# Builds and serves Handoff on embedded SQLite (./data), with the demo organization seeded.
# Installs missing tools first (idempotent). Prints the URLs and the demo login when ready.
# For development with live reload, use `cargo leptos watch` instead (after one run of this;
# the widget is its own bundle: rebuild it with scripts/build-widget.sh --dev).
set -euo pipefail
cd "$(dirname "$0")/.."
# The demo (with its published password) is for trying Handoff locally; the server's own default
# and Leptos.toml seed nothing.
export HANDOFF_SEED_DEMO=true
scripts/install-tools.sh
export PATH="$HOME/.cargo/bin:${HANDOFF_TOOLS_DIR:-$HOME/.cache/handoff-tools}/node_modules/.bin:$PATH"
scripts/build-widget.sh
exec cargo leptos serve --release
