#!/usr/bin/env bash
# Builds the visitor's chat widget, its own small WASM bundle (crate `handoff-widget`), into
# target/widget (HANDOFF_WIDGET_DIR overrides it): handoff_widget.js, handoff_widget_bg.wasm and
# handoff_widget.css. The server serves them under content-hashed addresses and notices a rebuild
# on the next page load.
#
# Usage: scripts/build-widget.sh [--dev]
#   default  the size-optimised profile (wasm-release: opt-level z, LTO, one codegen unit, panic
#            abort) and wasm-opt -Oz, as shipped;
#   --dev    a quick debug build without wasm-opt, for development beside `cargo leptos watch`.
# Needs the wasm32 target, wasm-bindgen and wasm-opt (scripts/install-tools.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:${HANDOFF_TOOLS_DIR:-$HOME/.cache/handoff-tools}/node_modules/.bin:$PATH"

profile=wasm-release
[ "${1:-}" = "--dev" ] && profile=dev
out="${HANDOFF_WIDGET_DIR:-target/widget}"
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
profile_dir=$profile
[ "$profile" = dev ] && profile_dir=debug

cargo build -p handoff-widget --lib --target wasm32-unknown-unknown --profile "$profile"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wasm-bindgen "$target_dir/wasm32-unknown-unknown/$profile_dir/handoff_widget.wasm" \
  --target web --no-typescript --out-dir "$tmp"
if [ "$profile" = wasm-release ]; then
  # The features rustc enables for wasm32 by default; wasm-opt must accept them.
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$tmp/handoff_widget_bg.wasm" -o "$tmp/handoff_widget_bg.opt.wasm"
  mv "$tmp/handoff_widget_bg.opt.wasm" "$tmp/handoff_widget_bg.wasm"
fi
# The widget's part of the stylesheet (style/main.css up to its marker line: the rest is the
# dashboard's), without comments and spare whitespace: strings and selectors keep their single
# spaces.
marker="==== end of the widget's part"
grep -q "$marker" style/main.css || { echo "style/main.css has no line '$marker'" >&2; exit 1; }
sed "/$marker/,\$d" style/main.css \
  | perl -0777 -pe 's{/\*.*?\*/}{}gs; s/\s+/ /g; s/\s*([{};,>])\s*/$1/g; s/;}/}/g' > "$tmp/handoff_widget.css"
mkdir -p "$out"
# The wasm last: the server reloads when every file is present and any of them changed.
for f in handoff_widget.js handoff_widget.css handoff_widget_bg.wasm; do
  cp "$tmp/$f" "$out/$f.new" && mv "$out/$f.new" "$out/$f"
done
printf 'widget bundle in %s: %s\n' "$out" "$(cd "$out" && wc -c handoff_widget.js handoff_widget_bg.wasm handoff_widget.css | tr '\n' ';')"
