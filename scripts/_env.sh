# Sourced by the scripts: finds Python 3.11+, creates .venv and installs the project into it.
# Usage: ensure_venv [extras]   (re-installs only when pyproject.toml changed)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
  for candidate in python3.14 python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "error: newsearch needs Python 3.11 or newer on PATH" >&2
  return 1
}

ensure_venv() {
  local extras="${1:-}"
  local spec="$ROOT"
  [ -n "$extras" ] && spec="$ROOT[$extras]"
  # "fast" adds a compiled package; where it has no wheel and no compiler, install without it.
  local fast_spec="$ROOT[${extras:+$extras,}fast]"
  if [ ! -x "$VENV/bin/python" ]; then
    "$(find_python)" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
  fi
  local stamp="$VENV/.installed-$extras"
  local digest
  digest="$(cat "$ROOT/pyproject.toml" | "$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "installing newsearch${extras:+ [$extras]} into .venv ..." >&2
    if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$fast_spec"; then
      echo "note: pymorphy3's C dictionary reader (DAWG2) did not install; using the" \
        "pure-Python one (same lemmas, slower Ukrainian and Russian analysis)" >&2
      "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec"
    fi
    echo "$digest" > "$stamp"
  fi
  typecheck_tree
}

# mypy cannot follow the editable install's import hook that maps `newsearch.search` to the
# folder `search/` (and so on): it reads the same folders through links under
# .venv/typecheck/newsearch, which pyproject.toml gives it as mypy_path.
typecheck_tree() {
  local tree="$VENV/typecheck/newsearch"
  mkdir -p "$tree"
  local package
  for package in search schema indexer; do
    ln -sfn "$ROOT/$package" "$tree/$package"
  done
}
