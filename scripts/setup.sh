# Shared by start.sh and test.sh (sourced, not run): create .venv, install the pinned Python
# and npm packages, build the front end and the documentation, each step skipped when its
# inputs are unchanged.
# shellcheck shell=bash

FLOWDECK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$FLOWDECK_ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

_hash_files() { (cd "$FLOWDECK_ROOT" && find "$@" -type f -not -name '*.tsbuildinfo' -print0 2>/dev/null | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }

find_python() {
    local candidate
    for candidate in "${FLOWDECK_PYTHON:-}" python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "Flowdeck needs Python 3.11 (set FLOWDECK_PYTHON to its path)." >&2
    return 1
}

# setup_python [dev]: the runtime packages, or runtime and development packages.
setup_python() {
    local extras=${1:-} stamp want have
    if [ ! -x "$PY" ]; then
        say "Creating the virtual environment in .venv"
        "$(find_python)" -m venv "$VENV"
    fi
    want=$(_hash_files pyproject.toml constraints.txt)
    # A development install also satisfies a runtime one.
    for stamp in "$VENV/.installed-dev" "$VENV/.installed-${extras:-runtime}"; do
        have=$(cat "$stamp" 2>/dev/null || true)
        if [ "$have" = "$want" ] && { [ -z "$extras" ] || [ "$stamp" = "$VENV/.installed-dev" ]; }; then
            return 0
        fi
    done
    say "Installing Python packages${extras:+ ($extras)}"
    local spec="."
    [ -n "$extras" ] && spec=".[$extras]"
    (cd "$FLOWDECK_ROOT" && "$PY" -m pip install --quiet --disable-pip-version-check \
        -c constraints.txt -e "$spec")
    echo "$want" > "$VENV/.installed-${extras:-runtime}"
}

setup_frontend() {
    local fe="$FLOWDECK_ROOT/frontend" want
    command -v npm >/dev/null 2>&1 || { echo "Flowdeck needs Node.js 20.19+ and npm." >&2; return 1; }
    want=$(_hash_files frontend/package.json frontend/package-lock.json)
    if [ "$(cat "$fe/node_modules/.flowdeck-installed" 2>/dev/null || true)" != "$want" ]; then
        say "Installing npm packages"
        (cd "$fe" && npm ci --no-audit --no-fund --loglevel=error)
        echo "$want" > "$fe/node_modules/.flowdeck-installed"
    fi
    want=$(_hash_files frontend/src frontend/package-lock.json frontend/vite.config.ts frontend/tsconfig.json)
    if [ ! -f "$fe/dist/.vite/manifest.json" ] ||
        [ "$(cat "$fe/dist/.flowdeck-built" 2>/dev/null || true)" != "$want" ]; then
        say "Building the front end"
        (cd "$fe" && npm run --silent build)
        echo "$want" > "$fe/dist/.flowdeck-built"
    fi
}

# The documentation site (mkdocs.yml, docs/) into site/, which Flowdeck serves at /docs/.
# ./test.sh builds it again with --strict, whatever this stamp says.
setup_docs() {
    local site="$FLOWDECK_ROOT/site" want
    want=$(_hash_files mkdocs.yml docs scripts/mkdocs_hooks.py flowdeck/openapi.yaml constraints.txt)
    if [ -f "$site/index.html" ] && [ "$(cat "$site/.flowdeck-built" 2>/dev/null || true)" = "$want" ]; then
        return 0
    fi
    say "Building the documentation (served at /docs/)"
    # NO_MKDOCS_2_WARNING: the theme's notice about MkDocs 2 (docs/development.md), once is enough.
    (cd "$FLOWDECK_ROOT" && NO_MKDOCS_2_WARNING=1 "$VENV/bin/mkdocs" build --quiet) || return 1
    echo "$want" > "$site/.flowdeck-built"
}
