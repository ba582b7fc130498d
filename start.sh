#!/usr/bin/env bash
# README command 1: set up and start Flowdeck (web server and workers) on this machine.
# Environment: FLOWDECK_HOST (127.0.0.1), FLOWDECK_PORT (8000), FLOWDECK_DEMO_SERVICES (1: serve
# the examples' services on 127.0.0.1:9000; 0: not), and everything in
# docs/deployment/configuration.md (DATABASE_URL and REDIS_URL for scale-out mode).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh

setup_python
setup_frontend
# The documentation at /docs/ is not needed to run workflows: a failed build is reported, and
# /docs/ says how to build it.
setup_docs || echo "The documentation was not built (see above); /docs/ will say so." >&2
export PATH="$VENV/bin:$PATH"

say "Migrating the database"
python manage.py check --fail-level ERROR
python manage.py migrate --noinput
python manage.py flowdeck_bootstrap

host=${FLOWDECK_HOST:-127.0.0.1}
port=${FLOWDECK_PORT:-8000}
demo=()
port_free() {
    # SO_REUSEADDR as the server sets it: a port in TIME_WAIT after a restart counts as free.
    python -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}
if [ "${FLOWDECK_DEMO_SERVICES:-1}" = 0 ]; then
    :
elif ! port_free 9000; then
    # Not opening the port to http.request: it would reach whatever else listens there.
    echo "Port 9000 is taken: the examples' demo services are not started (their HTTP steps will be refused)." >&2
else
    # The services the examples call (designer/demo_services.py), on 127.0.0.1:9000, which
    # http.request may then reach (that port only; every other local address stays refused).
    demo=(--demo-services 9000)
    export FLOWDECK_HTTP_ALLOW_NETWORKS="${FLOWDECK_HTTP_ALLOW_NETWORKS:+$FLOWDECK_HTTP_ALLOW_NETWORKS,}127.0.0.1:9000"
    say "The examples' demo services answer on http://127.0.0.1:9000/ (FLOWDECK_DEMO_SERVICES=0: not started)"
fi
say "Flowdeck is starting: open http://$host:$port/  (Ctrl-C stops the web server and the workers)"
# supervisord runs them all and stops them all on Ctrl-C (SIGINT) or SIGTERM.
exec python manage.py serve --host "$host" --port "$port" "${demo[@]}"
