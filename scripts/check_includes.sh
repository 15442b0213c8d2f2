#!/usr/bin/env bash
# Dependencies point down: base/ <- crypto/ <- proxy/relay/core/ <- the journal store, the libuv
# back-end, the TLS link security and tools; only the daemon, the simulation, tests and benchmarks
# use the journal store. OpenSSL stays out of base/, crypto/ and core/ (the TLS library wraps it).
#
#   scripts/check_includes.sh [ROOT]     check the tree at ROOT (default: the current directory)
#   scripts/check_includes.sh --self-test  prove on a scratch tree that every rule can fail
#
# Exit 0 with a one-line summary when every #include is allowed; exit 1 with one
# "file:line: #include ..." per offending line otherwise; exit 2 on a usage error.
#
# Rules, one row per folder (or file). A source file follows the row with the longest matching
# prefix; "." is every other file.
#   may:   what a "quoted" include, or a <bracketed> one naming a project folder or a *.pb.h, may
#          be ("dir/" means anything under it, "*" anything at all). Other <bracketed> headers are
#          system and library headers and are allowed unless "never" names them.
#   never: globs no include may match, whether quoted or bracketed.
RULES='
# folder             | may                                                | never
base/                | base/                                              | crypto/ proxy/ uv.h uv/* *.pb.h openssl/*
crypto/              | base/ crypto/ sealed_sender.pb.h                   | proxy/ uv.h uv/* relay.pb.h openssl/*
proxy/relay/core/    | base/ crypto/ proxy/relay/core/ relay.pb.h         | uv.h uv/* proxy/relay/uv/ proxy/sim/ openssl/*
proxy/relay/store/   | base/ crypto/ proxy/relay/core/ proxy/relay/store/ | uv.h uv/*
proxy/relay/tls/     | base/ crypto/ proxy/relay/core/ proxy/relay/tls/   | uv.h uv/*
proxy/relay/uv/      | *                                                  | tests/ bench/ proxy/relay/store/
proxy/relay/main.cpp | *                                                  | tests/ bench/
proxy/sim/           | *                                                  | tests/ bench/
proxy/               | *                                                  | uv.h uv/* tests/ bench/ proxy/relay/store/
.                    | *                                                  | uv.h uv/*
'
set -uo pipefail
set -f  # the rule globs (uv/*, *.pb.h) are patterns, never file names

self_test() {
  local script failures=0 out
  script=$(readlink -f "${BASH_SOURCE[0]}")
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/veil-includes.XXXXXX") || exit 2
  trap 'rm -rf "$tmp"' EXIT
  # A tiny tree in which every include is allowed, including each rule's edge cases.
  mkdir -p "$tmp"/{base,crypto,proxy/relay/core,proxy/relay/store,proxy/relay/tls,proxy/relay/uv,proxy/sim,proxy/cli,tests/unit,bench}
  printf '#include <vector>\n#include <sodium.h>\n#include "base/bytes.h"\n' >"$tmp/base/bytes.h"
  printf '#include "base/bytes.h"\n#include "crypto/keys.h"\n#include "sealed_sender.pb.h"\n' >"$tmp/crypto/keys.cpp"
  printf '#include "crypto/keys.h"\n#include "relay.pb.h"\n#include "proxy/relay/core/mix.h"\n' >"$tmp/proxy/relay/core/mix.cpp"
  printf '#include <rocksdb/db.h>\n#include "crypto/keys.h"\n#include "proxy/relay/core/journal.h"\n#include "proxy/relay/store/journal.h"\n' >"$tmp/proxy/relay/store/journal.cpp"
  printf '#include <openssl/ssl.h>\n#include "crypto/keys.h"\n#include "proxy/relay/core/mix.h"\n#include "proxy/relay/tls/tls.h"\n' >"$tmp/proxy/relay/tls/tls.cpp"
  printf '#include <uv.h>\n#include "proxy/relay/core/mix.h"\n' >"$tmp/proxy/relay/uv/loop.cpp"
  printf '#include <uv.h>\n#include "proxy/relay/uv/loop.h"\n#include "proxy/relay/store/journal.h"\n' >"$tmp/proxy/relay/main.cpp"
  printf '#include <uv.h>\n#include "proxy/relay/core/framing.h"\n#include "proxy/relay/store/journal.h"\n' >"$tmp/proxy/sim/socket.cpp"
  printf '#include "proxy/sim/socket.h"\n#include "relay.pb.h"\n' >"$tmp/proxy/cli/main.cpp"
  printf '#include "harness.h"\n#include "proxy/relay/core/mix.h"\n#include "proxy/relay/store/journal.h"\n' >"$tmp/tests/unit/mix_test.cpp"
  printf '#include "proxy/sim/socket.h"\n#include "proxy/relay/store/journal.h"\n' >"$tmp/bench/main.cpp"
  if ! out=$(bash "$script" "$tmp"); then
    echo "self-test: the clean scratch tree was rejected:"; echo "$out"; return 1
  fi
  # Each case: a file and one include it must not have. The script must reject it by file:line.
  local cases=(
    'base/x.cpp|#include "crypto/keys.h"'
    'base/x.cpp|#include <proxy/relay/core/mix.h>'
    'base/x.h|#include "relay.pb.h"'
    'base/x.h|#include <uv.h>'
    'crypto/x.cpp|#include "relay.pb.h"'
    'crypto/x.cpp|#include <uv.h>'
    'crypto/x.cpp|#include "proxy/relay/core/mix.h"'
    'crypto/x.cpp|#include "tests/unit/test_support.h"'
    'crypto/x.cpp|#include "init.h"'
    'proxy/relay/core/x.cpp|#  include <uv.h>'
    'proxy/relay/core/x.cpp|#include <uv/unix.h>'
    'proxy/relay/core/x.cpp|#include "proxy/relay/uv/loop.h"'
    'proxy/relay/core/x.cpp|#include "proxy/sim/socket.h"'
    'proxy/relay/core/x.cpp|#include "sealed_sender.pb.h"'
    'proxy/relay/core/x.cpp|#include "bench/timing.h"'
    'proxy/relay/core/x.cpp|#include "proxy/relay/store/journal.h"'
    'proxy/relay/store/x.cpp|#include <uv.h>'
    'proxy/relay/store/x.cpp|#include "proxy/relay/uv/loop.h"'
    'proxy/relay/store/x.cpp|#include "proxy/sim/socket.h"'
    'proxy/relay/store/x.cpp|#include "relay.pb.h"'
    'proxy/relay/store/x.cpp|#include "tests/unit/test_support.h"'
    'proxy/relay/uv/x.cpp|#include "proxy/relay/store/journal.h"'
    'base/x.cpp|#include <openssl/ssl.h>'
    'crypto/x.cpp|#include <openssl/evp.h>'
    'proxy/relay/core/x.h|#include <openssl/ssl.h>'
    'proxy/relay/tls/x.cpp|#include <uv.h>'
    'proxy/relay/tls/x.cpp|#include <uv/unix.h>'
    'proxy/relay/tls/x.cpp|#include "proxy/relay/uv/loop.h"'
    'proxy/relay/tls/x.cpp|#include "proxy/relay/store/journal.h"'
    'proxy/relay/tls/x.cpp|#include "proxy/sim/fed_stream.h"'
    'proxy/relay/tls/x.cpp|#include "relay.pb.h"'
    'proxy/relay/tls/x.cpp|#include "tests/tls/pipe.h"'
    'proxy/cli/x.cpp|#include "proxy/relay/store/journal.h"'
    'crypto/x.cpp|#include "proxy/relay/store/journal.h"'
    'proxy/relay/x.h|#include <uv.h>'
    'proxy/cli/x.cpp|#include <uv.h>'
    'proxy/cli/x.cpp|#include "tests/unit/test_support.h"'
    'proxy/sim/x.cpp|#include "bench/timing.h"'
    'proxy/relay/uv/x.cpp|#include "tests/integration/harness.h"'
    'tests/unit/x_test.cpp|#include <uv.h>'
    'bench/x.cpp|#include <uv.h>'
  )
  local c file line
  for c in "${cases[@]}"; do
    file=${c%%|*}
    line=${c#*|}
    printf '// scratch\n%s\n' "$line" >"$tmp/$file"
    if out=$(bash "$script" "$tmp"); then
      echo "self-test: NOT rejected: $file: $line"; failures=$((failures + 1))
    elif ! grep -qF "$file:2: " <<<"$out"; then
      echo "self-test: rejected, but without naming $file:2: $line"; echo "$out"; failures=$((failures + 1))
    fi
    rm -f "$tmp/$file"
  done
  if [ "$failures" -ne 0 ]; then echo "self-test: $failures of ${#cases[@]} cases failed"; return 1; fi
  echo "check_includes self-test: clean tree accepted, ${#cases[@]} forbidden includes rejected"
}

# RULES as three arrays, one entry per row, blanks trimmed.
declare -a R_FOLDER R_MAY R_NEVER
load_rules() {
  local folder may never
  local -a words
  while IFS='|' read -r folder may never; do
    folder=${folder%%#*}
    read -r folder <<<"$folder"
    [ -z "$folder" ] && continue
    R_FOLDER+=("$folder")
    read -ra words <<<"$may"; R_MAY+=("${words[*]}")
    read -ra words <<<"$never"; R_NEVER+=("${words[*]}")
  done <<<"$RULES"
}

# Does $1 match a glob of the space-separated list $2 ("dir/" means "dir/*")? Sets $matched.
matches_any() {
  local name=$1 glob
  for matched in $2; do
    glob=$matched
    [[ $glob == */ ]] && glob="$glob*"
    # shellcheck disable=SC2053  # glob match intended
    [[ $name == $glob ]] && return 0
  done
  return 1
}

check_tree() {
  local root=$1
  cd "$root" 2>/dev/null || { echo "check_includes: no such directory: $root" >&2; exit 2; }
  load_rules
  local files=() n_files n_includes=0 bad=0 file lineno text hdr quoted i best len rule
  mapfile -t files < <(find . \( -name .git -o -name node_modules -o -path './build*' -o -path './out' \) -prune \
                         -o -type f \( -name '*.h' -o -name '*.hpp' -o -name '*.c' -o -name '*.cc' -o -name '*.cpp' \
                         -o -name '*.inc' \) -print | sed 's|^\./||' | sort)
  n_files=${#files[@]}
  [ "$n_files" -eq 0 ] && { echo "check_includes: no source files under $root" >&2; exit 2; }
  while IFS= read -r match; do
    file=${match%%:*}; match=${match#*:}
    lineno=${match%%:*}; text=${match#*:}
    [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*([\"\<])([^\"\>]+)[\"\>] ]] || continue
    quoted=${BASH_REMATCH[1]}; hdr=${BASH_REMATCH[2]}
    n_includes=$((n_includes + 1))
    best=-1
    for i in "${!R_FOLDER[@]}"; do
      if [ "${R_FOLDER[$i]}" = "." ]; then len=0
      elif [ "${file#"${R_FOLDER[$i]}"}" != "$file" ]; then len=${#R_FOLDER[$i]}
      else continue
      fi
      [ "$len" -gt "$best" ] && { best=$len; rule=$i; }
    done
    [ "$best" -lt 0 ] && continue
    local why=""
    if matches_any "$hdr" "${R_NEVER[$rule]}"; then
      why="rule ${R_FOLDER[$rule]}: never $matched"
    elif [ "$quoted" = '"' ] || [[ $hdr =~ ^(base|crypto|proxy|tests|bench)/ || $hdr == *.pb.h ]]; then
      matches_any "$hdr" "${R_MAY[$rule]}" || why="rule ${R_FOLDER[$rule]}: may include only ${R_MAY[$rule]}"
    fi
    if [ -n "$why" ]; then
      [ "$bad" -eq 0 ] && echo "check_includes: dependencies must point down; offending includes:"
      echo "$file:$lineno: ${text#"${text%%[![:space:]]*}"}   ($why)"
      bad=$((bad + 1))
    fi
  done < <(printf '%s\0' "${files[@]}" | xargs -0 grep -HnE '^[[:space:]]*#[[:space:]]*include' || true)
  if [ "$bad" -ne 0 ]; then
    echo "check_includes: $bad forbidden include(s) in $n_files files (rules: scripts/check_includes.sh)"
    exit 1
  fi
  echo "check_includes: $n_includes includes in $n_files files follow the layering rules"
}

case "${1:-}" in
  --self-test) self_test; exit $? ;;
  -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}"; exit 0 ;;
  -*) echo "usage: $0 [ROOT] | --self-test" >&2; exit 2 ;;
  *) check_tree "${1:-.}" ;;
esac
