#!/usr/bin/env bash
# README command 2: set up and run every check and test, on the embedded default and then on
# PostgreSQL + Redis (scale-out). Exits non-zero when anything fails.
#
# Scale-out services: FLOWDECK_TEST_PG_URL (postgres://postgres@127.0.0.1:5432/postgres) and
# FLOWDECK_TEST_REDIS_URL (redis://127.0.0.1:6379/14). With CI=true, missing services fail the
# run; otherwise the scale-out pass is skipped with a message. Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh
set -e
setup_python dev
setup_frontend
set +e
export PATH="$VENV/bin:$PATH"

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then
        say "Installing Chromium (Debian package) for the browser tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "Chromium is missing and this is not root: run 'sudo apt-get install -y chromium'." >&2
    fi
fi

data_dir=$(mktemp -d "${TMPDIR:-/tmp}/flowdeck-test.XXXXXX")
scaleout_pid=""
trap '[ -z "$scaleout_pid" ] || kill "$scaleout_pid" 2>/dev/null; rm -rf "$data_dir"' EXIT
export FLOWDECK_DATA_DIR="$data_dir/embedded"
unset DATABASE_URL REDIS_URL SECRET_KEY FLOWDECK_DEBUG

results=()
failed=0
step() {
    local name=$1 started=$SECONDS
    shift
    say "$name"
    if "$@"; then
        results+=("ok      $(printf '%4ss' $((SECONDS - started)))  $name")
    else
        results+=("FAILED  $(printf '%4ss' $((SECONDS - started)))  $name")
        failed=1
    fi
}

openapi_is_current() {
    python manage.py spectacular --validate --fail-on-warn --file "$data_dir/openapi.yaml" &&
        diff -u flowdeck/openapi.yaml "$data_dir/openapi.yaml"
}

step "ruff lint" ruff check .
step "ruff format" ruff format --check .
# Every link, anchor and page of the documentation (mkdocs.yml), into a scratch folder: the
# site that ./start.sh built for /docs/ stays as it is. The browser test of /docs/ serves it.
# Not --quiet: MkDocs 1.6 then no longer counts warnings, and --strict passes whatever they say.
export FLOWDECK_TEST_DOCS_SITE="$data_dir/docs-site"
step "documentation builds (mkdocs build --strict)" \
    env NO_MKDOCS_2_WARNING=1 mkdocs build --strict --site-dir "$FLOWDECK_TEST_DOCS_SITE"
step "django check" python manage.py check --fail-level WARNING
step "migrations are complete" python manage.py makemigrations --check --dry-run
step "OpenAPI schema matches flowdeck/openapi.yaml" openapi_is_current
step "front-end typecheck" npm --prefix frontend run --silent typecheck
step "front-end unit tests (vitest)" npm --prefix frontend test --silent
pg_url=${FLOWDECK_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
redis_url=${FLOWDECK_TEST_REDIS_URL:-redis://127.0.0.1:6379/14}
if missing=$(python -c 'from tests.helpers import services_unavailable as s; r = s(); print(r or ""); raise SystemExit(bool(r))'); then
    scaleout() {
        DATABASE_URL="${pg_url%/*}/flowdeck_ci" REDIS_URL="$redis_url" \
            FLOWDECK_QUEUE="flowdeck-ci-$$" FLOWDECK_DATA_DIR="$data_dir/scaleout" \
            "$@"
    }
    step "django check, scale-out" scaleout python manage.py check --fail-level WARNING
    # The two passes share nothing (their own database, queue, data folder and free ports) and
    # spend most of their time waiting on workers, servers and browsers, not on the CPU: the
    # scale-out pass runs beside the embedded one, into a log printed when both are done
    # (FLOWDECK_TEST_SERIAL=1 runs them one after the other). The browser tests ran in the
    # embedded pass: they prove the pages, which the database and broker under them do not
    # change; the engine, API, socket and fault tests run again.
    scaleout_name="pytest, scale-out (PostgreSQL, Redis), without the browser tests"
    scaleout_log="$data_dir/scaleout-pytest.log"
    run_scaleout() {
        local started=$SECONDS rc
        scaleout pytest -p no:cacheprovider -m "not browser" "$@"
        rc=$?
        echo "$rc $((SECONDS - started))" >"$data_dir/scaleout-result"
        return $rc
    }
    if [ "${FLOWDECK_TEST_SERIAL:-}" = 1 ]; then
        step "$scaleout_name" scaleout pytest -p no:cacheprovider -m "not browser" "$@"
    else
        say "$scaleout_name: started beside the embedded pass, its log follows it"
        run_scaleout "$@" >"$scaleout_log" 2>&1 &
        scaleout_pid=$!
    fi
elif [ "${CI:-}" = true ]; then
    echo "CI=true and the scale-out services are missing: $missing" >&2
    results+=("FAILED     0s  scale-out services: $missing")
    failed=1
else
    echo "Skipping the scale-out pass: $missing" >&2
    results+=("skipped    0s  scale-out pass: $missing")
fi

step "pytest, embedded (SQLite, ORM broker)" pytest -p no:cacheprovider "$@"

if [ -n "$scaleout_pid" ]; then
    say "$scaleout_name (its log)"
    wait "$scaleout_pid"
    scaleout_pid=""
    cat "$scaleout_log"
    read -r rc took <"$data_dir/scaleout-result" || { rc=1 took=0; }
    if [ "$rc" = 0 ]; then
        results+=("ok      $(printf '%4ss' "$took")  $scaleout_name")
    else
        results+=("FAILED  $(printf '%4ss' "$took")  $scaleout_name")
        failed=1
    fi
fi

say "Summary"
printf '  %s\n' "${results[@]}"
exit $failed
