#!/usr/bin/env bash
# Mutation checks of Handoff's guarantees (issue 28): does each guarantee's test fail when the
# mechanism behind it is removed?
#
#   scripts/mutants.sh                 # everything: the listed mechanisms, then cargo-mutants on domain
#   scripts/mutants.sh --check         # only check that every listed pattern still finds its code
#   scripts/mutants.sh --only NAME...  # only these listed mutations (no domain)
#   scripts/mutants.sh --no-domain     # the listed mutations only
#   scripts/mutants.sh --domain-only   # cargo-mutants over domain only
#   scripts/mutants.sh --iterate …     # cargo-mutants re-tests only what the last run did not catch
#
# 1. Hand-written mutations from scripts/mutants.txt: each removes one mechanism (an SQL guard, a
#    compare-and-set, a permission check, a lease, …) by a textual replacement. The code is
#    found by a pattern that must occur exactly once in backend/src, server/src or app/src — not
#    by file and line, so the list survives code moving between files. All mutations are written
#    into the source at once, each behind a run-time switch (see scripts/mutants.py), and built
#    once; then, with no switch on, every named test must pass (baseline), and for each mutation
#    `HANDOFF_MUTANT=<name>` runs only its named test(s). The source is restored at the end.
#    KILLED = the test failed (good); SURVIVED = it still passed (a missing test, or an
#    equivalent mutant: say why in RELIABILITY.md).
# 2. cargo-mutants over the `domain` crate, whole (installed if missing).
#
# Slow (a build with every mutation, the named tests once per mutation, cargo-mutants: about an
# hour on two cores), so not part of scripts/test.sh. PostgreSQL at 127.0.0.1:5432 is
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

  # Every mutation goes into the source at once, each behind its HANDOFF_MUTANT switch: one
  # build serves them all. The files are restored however the script ends.
  restore() { mutation restore; }
  trap restore EXIT INT TERM
  mutation apply "${DIRS[@]}" || exit 1
  echo "== building the tests with every mutation switched in (off unless named)"
  while IFS= read -r args; do
    # shellcheck disable=SC2086
    if ! eval "cargo test $args --no-run" >"$OUT/build.log" 2>&1; then
      echo "the switched-in mutations do not compile: cargo test $args --no-run (see $OUT/build.log)" >&2
      exit 1
    fi
  done < <(mutation builds)

  # With no mutation on, every test named for the mutations must pass (a failing test kills
  # nothing).
  echo "== baseline: the named tests, no mutation on"
  while IFS= read -r cmd; do
    echo "   cargo test $cmd"
    # shellcheck disable=SC2086
    if ! eval "env -u HANDOFF_MUTANT cargo test $cmd" >"$OUT/baseline.log" 2>&1; then
      echo "baseline failed: cargo test $cmd (see $OUT/baseline.log)" >&2
      exit 1
    fi
  done < <(mutation baseline "${only[@]}")

  report="$OUT/listed.md"
  {
    echo "Listed mechanisms: run $(date -u +%Y-%m-%d\ %H:%M) UTC, commit $commit, $engines."
    echo
    echo "| mutation | mechanism removed | test | result |"
    echo "|---|---|---|---|"
  } >"$report"
  killed=0 survived=0
  for name in "${names[@]}"; do
    test_cmd=$(mutation test "$name") || exit 1
    echo "== $name: HANDOFF_MUTANT=$name cargo test $test_cmd"
    log="$OUT/$name.log"
    start=$(date +%s)
    # shellcheck disable=SC2086
    if eval "HANDOFF_MUTANT=$name timeout 1200 cargo test $test_cmd" >"$log" 2>&1; then
      result=SURVIVED; survived=$((survived + 1))
    else
      result=KILLED; killed=$((killed + 1))
    fi
    echo "   $result ($(($(date +%s) - start)) s, log $log)"
    printf '| `%s` | %s | `%s` | %s |\n' "$name" "$(mutation what "$name")" "${test_cmd#* -- }" "$result" >>"$report"
  done
  restore
  trap - EXIT INT TERM
  echo >>"$report"
  echo "Listed mechanisms: $killed killed, $survived survived." >>"$report"
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
