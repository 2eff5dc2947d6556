# Shared helpers for the benchmark scripts (sourced, not run). Everything talks to
# 127.0.0.1 only and cleans up what it started.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
BIN="${HELPDESK_BIN:-$REPO_DIR/target/release/helpdesk}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-postgres}"
PORT="${PORT:-18080}"

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Builds the release binary unless it is newer than every source file.
ensure_build() {
    if [[ -n "${HELPDESK_BIN:-}" ]]; then
        [[ -x "$BIN" ]] || die "HELPDESK_BIN=$BIN is not executable"
        return
    fi
    if [[ ! -x "$BIN" ]] || [[ -n "$(find "$REPO_DIR/src" "$REPO_DIR/migrations" \
            "$REPO_DIR/Cargo.toml" "$REPO_DIR/Cargo.lock" -newer "$BIN" -print -quit)" ]]; then
        log "building release binary (cargo build --release)"
        (cd "$REPO_DIR" && cargo build --release --quiet) || die "release build failed"
    fi
}

ensure_tool() { # ensure_tool COMMAND DEBIAN_PACKAGE
    command -v "$1" >/dev/null 2>&1 && return
    log "installing $2 (apt-get)"
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null
    else
        sudo apt-get update -qq >/dev/null && sudo apt-get install -y -qq "$2" >/dev/null
    fi
    command -v "$1" >/dev/null 2>&1 || die "could not install $2"
}

psql_admin() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

# Per-run scratch directory; the service runs there so no stray ./helpdesk.toml is read.
WORK_DIR=""
SERVICE_PID=""
PG_DB=""

make_work_dir() {
    WORK_DIR="$(mktemp -d /tmp/helpdesk-bench.XXXXXX)"
}

# database_url BACKEND NAME: a fresh database for this run.
fresh_database_url() {
    local backend="$1" name="$2"
    case "$backend" in
        sqlite)
            echo "sqlite://$WORK_DIR/$name.db"
            ;;
        postgres)
            PG_DB="helpdesk_bench_${name//[^a-z0-9_]/_}_$$"
            psql_admin -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null
            psql_admin -c "CREATE DATABASE $PG_DB" >/dev/null
            echo "postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
            ;;
        *) die "unknown backend $backend" ;;
    esac
}

# run_helpdesk ARGS...: the binary with the run's environment, from the work dir.
run_helpdesk() {
    (cd "$WORK_DIR" && env DATABASE_URL="$DATABASE_URL" HELPDESK_LOG="${HELPDESK_LOG:-warn}" \
        "$BIN" "$@")
}

# start_service: serves DATABASE_URL on 127.0.0.1:$PORT with rate limiting off; waits for
# /status. Extra HELPDESK_* settings come from the caller's environment.
start_service() {
    (cd "$WORK_DIR" && exec env DATABASE_URL="$DATABASE_URL" \
        HELPDESK_BIND="127.0.0.1:$PORT" HELPDESK_RATE_LIMIT_PER_SECOND=0 \
        HELPDESK_LOG="${HELPDESK_LOG:-warn}" "$BIN" serve \
        >"$WORK_DIR/serve.out" 2>"$WORK_DIR/serve.err") &
    SERVICE_PID=$!
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/status"; then return; fi
        kill -0 "$SERVICE_PID" 2>/dev/null || { cat "$WORK_DIR/serve.err" >&2; die "service exited"; }
        sleep 0.1
    done
    die "service did not answer on 127.0.0.1:$PORT"
}

stop_service() {
    if [[ -n "$SERVICE_PID" ]] && kill -0 "$SERVICE_PID" 2>/dev/null; then
        kill -TERM "$SERVICE_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$SERVICE_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVICE_PID" 2>/dev/null || true
        wait "$SERVICE_PID" 2>/dev/null || true
    fi
    SERVICE_PID=""
}

drop_pg_database() {
    if [[ -n "$PG_DB" ]]; then
        psql_admin -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true
        PG_DB=""
    fi
}

cleanup() {
    stop_service
    drop_pg_database
    if [[ -n "$WORK_DIR" && -z "${KEEP_WORK_DIR:-}" ]]; then rm -rf "$WORK_DIR"; fi
    WORK_DIR=""
}

# db_query SQL: runs SQL against the current database, plain rows out.
db_query() {
    case "$DATABASE_URL" in
        sqlite://*) sqlite3 "${DATABASE_URL#sqlite://}" "$1" ;;
        postgres://*) psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qAt -c "$1" ;;
    esac
}

machine_summary() {
    echo "cpus: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
    echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
    echo "kernel: $(uname -r)"
}
