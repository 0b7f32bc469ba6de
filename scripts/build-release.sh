#!/usr/bin/env bash
# Builds the self-contained release binary, target/release/handoff: the server with the
# dashboard's bundle, the widget's bundle, styles and public files inside, so that copied alone
# to any directory (or machine of the same kind) it serves everything. Configuration stays
# outside: Leptos.toml in the directory it starts in (or HANDOFF_CONFIG), HANDOFF_* variables,
# or the defaults (`target/release/handoff --help`). Expects the tools of install-tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:${HANDOFF_TOOLS_DIR:-$HOME/.cache/handoff-tools}/node_modules/.bin:$PATH"
cargo leptos build --release
scripts/build-widget.sh
target/release/handoff-server bundle target/release/handoff
