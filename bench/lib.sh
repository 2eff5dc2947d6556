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

psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

# Per-run scratch directory; the service runs there so no stray ./helpdesk.toml is read.
WORK_DIR=""
SERVICE_PID=""
PG_DB=""

make_work_dir() {
    WORK_DIR="$(mktemp -d /tmp/helpdesk-bench.XXXXXX)"
}

# fresh_database BACKEND NAME: sets DATABASE_URL to a new, empty database for this run
# (and PG_DB, so that cleanup drops it). Not to be called in a $(subshell).
fresh_database() {
    local backend="$1" name="$2"
    case "$backend" in
        sqlite)
            DATABASE_URL="sqlite://$WORK_DIR/$name.db"
            ;;
        postgres)
            PG_DB="helpdesk_bench_${name//[^a-z0-9_]/_}_$$"
            psql_admin -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null
            psql_admin -c "CREATE DATABASE $PG_DB" >/dev/null
            # PG_DB_SETTINGS="name=value ...": per-database settings for every session of the
            # service, e.g. "plan_cache_mode=force_custom_plan" or "synchronous_commit=off".
            local setting
            for setting in ${PG_DB_SETTINGS:-}; do
                psql_admin -c "ALTER DATABASE $PG_DB SET ${setting%%=*} = '${setting#*=}'" >/dev/null
            done
            DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
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
        if curl -fs -o /dev/null "http://127.0.0.1:$PORT/status" 2>/dev/null; then return; fi
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

# ensure_sqlite_probe: builds bench/sqlite-probe.c against the SQLite amalgamation that
# libsqlite3-sys bundles into the service (same version, same flags) and sets SQLITE_PROBE.
# Cached per SQLite version under ~/.cache/helpdesk-bench (a first build takes ~1 min).
ensure_sqlite_probe() {
    local version src cache
    version=$(awk '/^name = "libsqlite3-sys"/ {getline; gsub(/[" ]/, "", $0); sub(/version=/, "", $0); print; exit}' \
        "$REPO_DIR/Cargo.lock")
    [[ -n "$version" ]] || die "libsqlite3-sys not in Cargo.lock"
    src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"libsqlite3-sys-$version"/sqlite3 2>/dev/null | head -1)
    if [[ -z "$src" ]]; then
        (cd "$REPO_DIR" && cargo fetch --quiet) || die "cargo fetch failed"
        src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"libsqlite3-sys-$version"/sqlite3 | head -1)
    fi
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/helpdesk-bench"
    SQLITE_PROBE="$cache/sqlite-probe-$version"
    if [[ ! -x "$SQLITE_PROBE" || "$BENCH_DIR/sqlite-probe.c" -nt "$SQLITE_PROBE" ]]; then
        ensure_tool gcc gcc
        mkdir -p "$cache"
        log "building sqlite-probe against libsqlite3-sys $version's SQLite (once)"
        # The flags libsqlite3-sys's build.rs passes for the bundled build.
        gcc -O2 -o "$SQLITE_PROBE" -I"$src" "$BENCH_DIR/sqlite-probe.c" "$src/sqlite3.c" \
            -DSQLITE_CORE -DSQLITE_DEFAULT_FOREIGN_KEYS=1 -DSQLITE_ENABLE_API_ARMOR \
            -DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_ENABLE_DBSTAT_VTAB -DSQLITE_ENABLE_FTS3 \
            -DSQLITE_ENABLE_FTS3_PARENTHESIS -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_JSON1 \
            -DSQLITE_ENABLE_LOAD_EXTENSION=1 -DSQLITE_ENABLE_MEMORY_MANAGEMENT \
            -DSQLITE_ENABLE_RTREE -DSQLITE_ENABLE_STAT4 -DSQLITE_SOUNDEX -DSQLITE_THREADSAFE=1 \
            -DSQLITE_USE_URI -DHAVE_USLEEP=1 -DHAVE_ISNAN -lpthread -ldl -lm \
            || die "building sqlite-probe failed"
    fi
}

# background_busy: percent of all cores busy over one second (before we start anything).
background_busy() {
    local a b
    a=($(awk '/^cpu / {t=0; for (i=2;i<=NF;i++) t+=$i; print t-$5-$6, t}' /proc/stat))
    sleep 1
    b=($(awk '/^cpu / {t=0; for (i=2;i<=NF;i++) t+=$i; print t-$5-$6, t}' /proc/stat))
    awk -v b0="${a[0]}" -v t0="${a[1]}" -v b1="${b[0]}" -v t1="${b[1]}" \
        'BEGIN{ if (t1 > t0) printf "%.0f", (b1-b0)/(t1-t0)*100; else print 0 }'
}

# cpu_reference: milliseconds an awk loop of 10 million additions takes on one core now
# (490-570 ms on the 2-vCPU VM of docs/performance.md at full speed, up to ~900 ms in its slow
# spells: the VM's speed drifts over minutes, so timings are printed with it).
cpu_reference() {
    local a b
    a=$(date +%s%N)
    awk 'BEGIN { for (i = 0; i < 10000000; i++) s += i }'
    b=$(date +%s%N)
    echo $(((b - a) / 1000000))
}

# wait_for_quiet: the machine is shared (builds, tests): wait until at most QUIET_BUSY
# percent (default 15) of the CPU is busy with other work, for up to QUIET_WAIT seconds
# (default 300; 0 = don't wait), and say how busy it was when we started.
wait_for_quiet() {
    local limit="${QUIET_BUSY:-15}" deadline=$((SECONDS + ${QUIET_WAIT:-300})) busy
    while :; do
        busy=$(background_busy)
        if (( busy <= limit )); then break; fi
        if (( SECONDS >= deadline )); then
            echo "warning: machine still ${busy}% busy with other work; measuring anyway" >&2
            break
        fi
        echo "machine ${busy}% busy with other work; waiting (QUIET_WAIT=${QUIET_WAIT:-300}s)" >&2
        sleep 5
    done
    BACKGROUND_BUSY="$busy"
}
