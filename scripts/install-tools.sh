#!/usr/bin/env bash
# Installs every tool Handoff needs to build, serve and test, skipping what is already present.
# Idempotent and safe to run repeatedly. Tools are cached outside the clone:
#   ~/.cargo/bin              cargo-leptos, wasm-bindgen
#   ~/.cache/handoff-tools    wasm-opt (npm binaryen@132)
# Usage: scripts/install-tools.sh [--browser]   (--browser also installs Chromium + Playwright deps)
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.11
BINARYEN_VERSION=132
TOOLS_DIR="${HANDOFF_TOOLS_DIR:-$HOME/.cache/handoff-tools}"
export PATH="$HOME/.cargo/bin:$TOOLS_DIR/node_modules/.bin:$PATH"
log() { printf '\033[1;34m[tools]\033[0m %s\n' "$*"; }

# wasm-bindgen CLI must equal the crate version in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock 2>/dev/null || true)
WASM_BINDGEN_VERSION=${WASM_BINDGEN_VERSION:-0.2.130}

# 1. wasm target
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. cargo-leptos (cargo install fails on Rust 1.95: pin cargo-util-schemas in its lockfile)
if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "building cargo-leptos $CARGO_LEPTOS_VERSION (about 13 minutes on 2 cores, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked >/dev/null 2>&1 || true
  src=$(ls -d "$HOME"/.cargo/registry/src/*/cargo-leptos-"$CARGO_LEPTOS_VERSION" 2>/dev/null | head -1)
  if [ -z "$src" ]; then
    # the failed install may not have unpacked it: fetch the crate through a throwaway project
    tmp=$(mktemp -d)
    (cd "$tmp" && cargo init -q --name fetch_cl && cargo add -q "cargo-leptos@=$CARGO_LEPTOS_VERSION" --no-default-features && cargo fetch -q) || true
    src=$(ls -d "$HOME"/.cargo/registry/src/*/cargo-leptos-"$CARGO_LEPTOS_VERSION" | head -1)
  fi
  work=$(mktemp -d)
  cp -r "$src" "$work/cargo-leptos"
  (cd "$work/cargo-leptos" && cargo update -q -p cargo-util-schemas --precise 0.14.0 && cargo install -q --path . --locked)
  rm -rf "$work"
fi

# 3. wasm-bindgen-cli, exact version
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install -q wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --force
fi

# 4. wasm-opt from npm binaryen (Debian's 108 breaks hydration in release builds)
if ! "$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  log "installing npm binaryen@$BINARYEN_VERSION into $TOOLS_DIR"
  mkdir -p "$TOOLS_DIR"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR" "binaryen@$BINARYEN_VERSION"
fi

# 5. browser test dependencies
if [ "${1:-}" = "--browser" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian chromium"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    log "installing end2end npm packages (npm ci)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
  fi
fi
log "tools ready: $(cargo leptos --version 2>/dev/null), $(wasm-bindgen --version), $(wasm-opt --version)"
