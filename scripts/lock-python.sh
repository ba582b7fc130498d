#!/usr/bin/env bash
# Re-resolve the Python packages from pyproject.toml's ranges into constraints.txt (the lock).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$(find_python)" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check -e ".[dev]"
{
    echo '# Exact versions of every Python package (a lock): pip install -c constraints.txt ".[dev]".'
    echo '# Regenerate after changing pyproject.toml: scripts/lock-python.sh'
    "$tmp/venv/bin/pip" freeze --exclude-editable | grep -v '^flowdeck'
} > constraints.txt
echo "constraints.txt updated"
