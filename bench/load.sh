#!/usr/bin/env bash
# Load benchmark: ticket creation (POST /api/v1/tickets) and reads (GET /api/v1/tickets/{id})
# against a release build on a fresh database, with wrk on 127.0.0.1.
#
#   bench/load.sh [sqlite|postgres|both]      (default: both)
#
# Settings (environment):
#   DURATION=12s            length of each measured wrk run
#   WARMUP=2s               unmeasured creation run before the first measurement
#   THREADS=1               wrk threads (1 leaves the second core to the service)
#   WRITE_CONNECTIONS="32"  wrk connections for creation; a list sweeps ("16 32 64")
#   READ_CONNECTIONS="32"   wrk connections for reads; a list sweeps
#   SQLITE_SYNC="full normal"  HELPDESK_SQLITE_SYNCHRONOUS values to run on SQLite
#   PORT=18080              where the service listens (127.0.0.1 only)
#   HELPDESK_WORKERS, HELPDESK_DB_POOL_SIZE, ...  passed through to the service
#   PG_DB_SETTINGS="name=value ..."  ALTER DATABASE ... SET for the fresh PostgreSQL database
#   PG_ANALYZE=1            ANALYZE the PostgreSQL database between creations and reads, as
#                           autovacuum would by then (0: read with the plans of an empty db)
#   HELPDESK_BIN=path       use this binary instead of building target/release/helpdesk
#
# For each run it prints wrk's own output (--latency) and, at the end, one table row per
# run: requests/s, p50/p90/p99/max latency, non-2xx count, and the CPU the service, wrk
# and the whole machine used during the run (to see who saturates the 2 cores).
#
# On PostgreSQL each wrk run is followed, on the same database and with the same number of
# connections, by pgbench running the bare database work of that request
# (bench/pgbench_create.sql: the ticket and its event in one transaction;
# bench/pgbench_read.sql: the ticket and its clocks), and the summary prints the ratio
# HTTP/pgbench of the two rates (issue 14's targets: >= 0.5 for both).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

target="${1:-both}"
case "$target" in
    sqlite) backends=(sqlite) ;;
    postgres) backends=(postgres) ;;
    both) backends=(sqlite postgres) ;;
    *) die "usage: $0 [sqlite|postgres|both]" ;;
esac
DURATION="${DURATION:-12s}"
WARMUP="${WARMUP:-2s}"
THREADS="${THREADS:-1}"
WRITE_CONNECTIONS="${WRITE_CONNECTIONS:-32}"
READ_CONNECTIONS="${READ_CONNECTIONS:-32}"
SQLITE_SYNC="${SQLITE_SYNC:-full normal}"
PG_ANALYZE="${PG_ANALYZE:-1}"

ensure_build
ensure_tool wrk wrk
ensure_tool curl curl
for b in "${backends[@]}"; do
    case "$b" in
        sqlite) ensure_tool sqlite3 sqlite3 ;;
        postgres) ensure_tool psql postgresql-client
                  psql_admin -c 'SELECT 1' >/dev/null || die "PostgreSQL not reachable at $PG_HOST:$PG_PORT" ;;
    esac
done
trap cleanup EXIT
trap 'exit 130' INT TERM

ROWS=()
RATIOS=()
CLK_TCK=$(getconf CLK_TCK)
LAST_RPS=""

# run_pgbench LABEL KIND CONNECTIONS SCRIPT [pgbench args...]: pgbench on the run's database
# for DURATION, after wrk's run of the same KIND; records the HTTP/pgbench ratio in RATIOS.
run_pgbench() {
    local label="$1" kind="$2" conns="$3" script="$4"; shift 4
    local out="$WORK_DIR/pgbench.out" tps
    wait_for_quiet
    pgbench -n -M prepared -j "$THREADS" -c "$conns" -T "${DURATION%s}" \
        -f "$BENCH_DIR/$script" "$@" "$DATABASE_URL" >"$out" 2>&1 || { cat "$out"; die "pgbench failed"; }
    tps=$(awk '/^tps = / {printf "%.0f", $3}' "$out")
    grep -E '^(tps|latency average)' "$out" >&2
    RATIOS+=("$(printf '%-14s %-6s %3s  http=%s/s pgbench=%s/s ratio=%s' "$label" "$kind" "$conns" \
        "$LAST_RPS" "$tps" "$(awk -v h="$LAST_RPS" -v p="$tps" 'BEGIN{printf "%.2f", h/p}')")")
}

# proc_cpu PID: user+system clock ticks the process (all its threads) used so far.
proc_cpu() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# machine_cpu: "busy total iowait" ticks over all cores since boot.
machine_cpu() { awk '/^cpu / {t=0; for (i=2;i<=NF;i++) t+=$i; print t-$5-$6, t, $6}' /proc/stat; }

# run_wrk LABEL KIND CONNECTIONS DURATION SCRIPT [ARGS...]: one wrk run, recorded in ROWS.
run_wrk() {
    local label="$1" kind="$2" conns="$3" duration="$4" script="$5"; shift 5
    local out="$WORK_DIR/wrk.out" tfile="$WORK_DIR/wrk.time"
    local s0 m0 s1 m1
    [[ "$kind" == warmup ]] || wait_for_quiet
    s0=$(proc_cpu "$SERVICE_PID"); m0=($(machine_cpu))
    local script_args=()
    [[ $# -gt 0 ]] && script_args=(-- "$@")
    local TIMEFORMAT='%U %S %R'
    { time TOKEN="$TOKEN" wrk -t"$THREADS" -c"$conns" -d"$duration" --latency --timeout 10s \
        -s "$BENCH_DIR/$script" "http://127.0.0.1:$PORT" "${script_args[@]}" >"$out" ; } 2>"$tfile"
    s1=$(proc_cpu "$SERVICE_PID"); m1=($(machine_cpu))
    [[ "$kind" == warmup ]] && return
    cat "$out"
    local result wall wrk_cpu svc_pct wrk_pct busy_pct iowait_pct
    result=$(grep '^RESULT' "$out" | sed 's/^RESULT //')
    LAST_RPS=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$result")
    read -r wu ws wall <"$tfile"
    svc_pct=$(awk -v a="$s0" -v b="$s1" -v hz="$CLK_TCK" -v w="$wall" 'BEGIN{printf "%.0f", (b-a)/hz/w*100}')
    wrk_pct=$(awk -v u="$wu" -v s="$ws" -v w="$wall" 'BEGIN{printf "%.0f", (u+s)/w*100}')
    busy_pct=$(awk -v b0="${m0[0]}" -v t0="${m0[1]}" -v b1="${m1[0]}" -v t1="${m1[1]}" \
        -v n="$(nproc)" 'BEGIN{printf "%.0f", (b1-b0)/(t1-t0)*100*n}')
    iowait_pct=$(awk -v i0="${m0[2]}" -v t0="${m0[1]}" -v i1="${m1[2]}" -v t1="${m1[1]}" \
        -v n="$(nproc)" 'BEGIN{printf "%.0f", (i1-i0)/(t1-t0)*100*n}')
    ROWS+=("$(printf '%-14s %-6s %3s  %s  cpu%%(of %d00): service=%s wrk=%s machine=%s iowait=%s before=%s' \
        "$label" "$kind" "$conns" "$result" "$(nproc)" "$svc_pct" "$wrk_pct" "$busy_pct" \
        "$iowait_pct" "$((BACKGROUND_BUSY * $(nproc)))")")
}

bench_backend() { # bench_backend BACKEND SQLITE_SYNC LABEL
    local backend="$1" sync="$2" label="$3"
    make_work_dir
    fresh_database "$backend" load
    export HELPDESK_SQLITE_SYNCHRONOUS="$sync"
    if [[ "$backend" == sqlite ]]; then
        log "$label: $DATABASE_URL (HELPDESK_SQLITE_SYNCHRONOUS=$sync)"
    else
        log "$label: $DATABASE_URL"
    fi
    TOKEN="$(run_helpdesk user add --name bench --role admin)"
    [[ -n "$TOKEN" ]] || die "no token"
    start_service
    log "$label: warm-up, $WARMUP of creations"
    run_wrk "$label" warmup 8 "$WARMUP" post_ticket.lua
    for c in $WRITE_CONNECTIONS; do
        log "$label: creations, wrk -t$THREADS -c$c -d$DURATION"
        run_wrk "$label" create "$c" "$DURATION" post_ticket.lua
        if [[ "$backend" == postgres ]]; then
            log "$label: pgbench, the bare ticket+event transaction, -c$c"
            run_pgbench "$label" create "$c" pgbench_create.sql \
                -D uid="$(db_query "SELECT id FROM users ORDER BY created_at LIMIT 1")"
        fi
    done
    if [[ "$backend" == postgres && "$PG_ANALYZE" == 1 ]]; then
        # What autovacuum does after a while; without it the service's cached generic plans
        # may still be the ones made when the tables were empty (see docs/performance.md).
        log "$label: ANALYZE (PG_ANALYZE=1)"
        db_query "ANALYZE" >/dev/null
    fi
    local ids="$WORK_DIR/ids.txt"
    # Only the service's tickets: pgbench's have no clocks.
    db_query "SELECT id FROM tickets WHERE id NOT LIKE 'pgb-%' ORDER BY random() LIMIT 20000" >"$ids"
    log "$label: $(db_query 'SELECT count(*) FROM tickets') tickets stored; reading $(wc -l <"$ids") of them at random"
    for c in $READ_CONNECTIONS; do
        log "$label: reads, wrk -t$THREADS -c$c -d$DURATION"
        run_wrk "$label" read "$c" "$DURATION" get_ticket.lua "$ids"
        if [[ "$backend" == postgres ]]; then
            if [[ -z "$(db_query "SELECT to_regclass('bench_ids')")" ]]; then
                db_query "CREATE TABLE bench_ids (n INTEGER PRIMARY KEY, id TEXT NOT NULL)" >/dev/null
                awk '{print NR "," $1}' "$ids" | psql "$DATABASE_URL" -qc "COPY bench_ids FROM STDIN (FORMAT csv)"
                db_query "ANALYZE bench_ids" >/dev/null
            fi
            log "$label: pgbench, the bare reads of a ticket and its clocks, -c$c"
            run_pgbench "$label" read "$c" pgbench_read.sql -D ids="$(wc -l <"$ids")"
        fi
    done
    unset HELPDESK_SQLITE_SYNCHRONOUS
    cleanup
}

log "machine"; machine_summary >&2
for backend in "${backends[@]}"; do
    if [[ "$backend" == sqlite ]]; then
        for sync in $SQLITE_SYNC; do bench_backend sqlite "$sync" "sqlite/$sync"; done
    else
        bench_backend postgres full postgres
    fi
done

echo
echo "== summary (wrk -t$THREADS, $DURATION per run; workers=${HELPDESK_WORKERS:-default} pool=${HELPDESK_DB_POOL_SIZE:-default} PG_ANALYZE=$PG_ANALYZE${PG_DB_SETTINGS:+ pg: $PG_DB_SETTINGS})"
printf '%-14s %-6s %3s  %s\n' backend run conn result
echo "(cpu%: service = the helpdesk process, wrk = the load generator, machine = all cores"
echo " busy incl. PostgreSQL and the kernel, iowait = cores waiting on disk, before = other"
echo " work on the machine in the second before the run; all in % of one core)"
for row in "${ROWS[@]}"; do echo "$row"; done
if [[ ${#RATIOS[@]} -gt 0 ]]; then
    echo
    echo "== HTTP against pgbench's bare database work, same database, same connections"
    for row in "${RATIOS[@]}"; do echo "$row"; done
fi
