#!/usr/bin/env bash
# README command 1: set up and start Flowdeck (web server and workers) on this machine.
# Environment: FLOWDECK_HOST (127.0.0.1), FLOWDECK_PORT (8000), and everything in the README's
# "Configuration" (DATABASE_URL and REDIS_URL for scale-out mode).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh

setup_python
setup_frontend
export PATH="$VENV/bin:$PATH"

say "Migrating the database"
python manage.py check --fail-level ERROR
python manage.py migrate --noinput
python manage.py flowdeck_bootstrap

host=${FLOWDECK_HOST:-127.0.0.1}
port=${FLOWDECK_PORT:-8000}
say "Flowdeck is starting: open http://$host:$port/  (Ctrl-C stops the web server and the workers)"
# supervisord runs both and stops both on Ctrl-C (SIGINT) or SIGTERM.
exec python manage.py serve --host "$host" --port "$port"
