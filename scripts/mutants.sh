#!/usr/bin/env bash
# Mutation checks of Handoff's guarantees (issue 28): does each guarantee's test fail when the
# mechanism behind it is removed?
#
#   scripts/mutants.sh                 # everything: the listed mechanisms, then cargo-mutants on domain
#   scripts/mutants.sh --check         # only check that every listed pattern still finds its code
#   scripts/mutants.sh --only NAME...  # only these listed mutations (no baseline, no domain)
#   scripts/mutants.sh --no-domain     # the listed mutations only
#   scripts/mutants.sh --domain-only   # cargo-mutants over domain only
#   scripts/mutants.sh --iterate …     # cargo-mutants re-tests only what the last run did not catch
#
# 1. Hand-written mutations from scripts/mutants.txt: each removes one mechanism (an SQL guard, a
#    compare-and-set, a permission check, the skip of duplicates, …) by a textual replacement.
#    The code is found by a pattern that must occur exactly once in backend/src, server/src or
#    app/src — not by file and line, so the list survives code moving between files. For each:
#    apply, run only the named test(s), restore the file. KILLED = the test failed (good);
#    SURVIVED = it still passed (a missing test, or an equivalent mutant: say why in
#    RELIABILITY.md); UNVIABLE = it did not compile (fix the mutation).
# 2. cargo-mutants over the `domain` crate, whole (installed if missing).
#
# Slow (one build per mutation), so not part of scripts/test.sh. PostgreSQL at 127.0.0.1:5432 is
# used when reachable (then it is required, so no PostgreSQL half of a test is silently skipped).
# The report goes to stdout and target/mutants/report.md; logs to target/mutants/.
set -uo pipefail
cd "$(dirname "$0")/.."
LIST=scripts/mutants.txt
DIRS=(backend/src server/src app/src)
OUT=target/mutants
mkdir -p "$OUT"

check_only=0 domain=1 listed=1 iterate=() only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check_only=1 ;;
    --no-domain) domain=0 ;;
    --domain-only) listed=0 ;;
    --iterate) iterate=(--iterate) ;;
    --only) shift; while [ $# -gt 0 ] && [[ "$1" != --* ]]; do only+=("$1"); shift; done; domain=0; continue ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

# The mutation list as records: name, test, and the from/to pairs (python does the exact-text work).
mutation() { python3 scripts/mutants.py "$@"; }

if ! mutation check "${DIRS[@]}"; then
  echo "some patterns do not find their code (see above): update $LIST" >&2
  exit 1
fi
[ "$check_only" = 1 ] && exit 0

export PATH="$HOME/.cargo/bin:$PATH"
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  export HANDOFF_REQUIRE_PG=1
  engines="SQLite and PostgreSQL"
else
  echo "PostgreSQL is not reachable: only the SQLite half of the server tests runs" >&2
  engines="SQLite only"
fi

commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo "+uncommitted changes")

if [ "$listed" = 1 ]; then
  names=()
  if [ ${#only[@]} -gt 0 ]; then names=("${only[@]}"); else mapfile -t names < <(mutation names); fi

  # The unmutated tree must pass every named test first (a failing test kills nothing).
  if [ ${#only[@]} -eq 0 ]; then
    echo "== baseline: the named tests on the unmutated code"
    while IFS= read -r cmd; do
      echo "   cargo test $cmd"
      # shellcheck disable=SC2086
      if ! eval "cargo test $cmd" >"$OUT/baseline.log" 2>&1; then
        echo "baseline failed: cargo test $cmd (see $OUT/baseline.log)" >&2
        exit 1
      fi
    done < <(mutation baseline)
  fi

  restore() { mutation restore; }
  trap restore EXIT INT TERM

  report="$OUT/listed.md"
  {
    echo "Listed mechanisms: run $(date -u +%Y-%m-%d\ %H:%M) UTC, commit $commit, $engines."
    echo
    echo "| mutation | mechanism removed | test | result |"
    echo "|---|---|---|---|"
  } >"$report"
  killed=0 survived=0 unviable=0
  for name in "${names[@]}"; do
    test_cmd=$(mutation test "$name") || exit 1
    args=${test_cmd%% -- *}
    echo "== $name: cargo test $test_cmd"
    mutation apply "$name" "${DIRS[@]}" || exit 1
    log="$OUT/$name.log"
    start=$(date +%s)
    # shellcheck disable=SC2086
    if ! eval "cargo test $args --no-run" >"$log" 2>&1; then
      result=UNVIABLE; unviable=$((unviable + 1))
    elif eval "timeout 1200 cargo test $test_cmd" >>"$log" 2>&1; then
      result=SURVIVED; survived=$((survived + 1))
    else
      result=KILLED; killed=$((killed + 1))
    fi
    restore
    echo "   $result ($(($(date +%s) - start)) s, log $log)"
    printf '| `%s` | %s | `%s` | %s |\n' "$name" "$(mutation what "$name")" "${test_cmd#* -- }" "$result" >>"$report"
  done
  trap - EXIT INT TERM
  echo >>"$report"
  echo "Listed mechanisms: $killed killed, $survived survived, $unviable unviable." >>"$report"
fi

if [ "$domain" = 1 ]; then
  echo "== cargo-mutants over domain"
  if ! cargo mutants --version >/dev/null 2>&1; then
    cargo install cargo-mutants --locked
  fi
  cargo mutants --package handoff-domain --no-shuffle "${iterate[@]}" --output "$OUT/domain" >"$OUT/domain.log" 2>&1
  dir="$OUT/domain/mutants.out"
  report="$OUT/domain.md"
  count() { cat "$dir/$1" 2>/dev/null | grep -c .; }
  {
    echo "cargo-mutants $(cargo mutants --version | awk '{print $2}') over \`domain\`, run $(date -u +%Y-%m-%d\ %H:%M) UTC, commit $commit:" \
      "$(count caught.txt) caught, $(count missed.txt) missed, $(count timeout.txt) timeouts, $(count unviable.txt) unviable."
    if [ -s "$dir/missed.txt" ]; then
      echo
      echo "Missed:"
      sed 's/^/- /' "$dir/missed.txt"
    fi
  } >"$report"
fi

# The report: whatever parts ran last (each part overwrites its own file).
cat "$OUT"/listed.md "$OUT"/domain.md 2>/dev/null >"$OUT/report.md"
echo
cat "$OUT/report.md"
