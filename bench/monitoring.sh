#!/usr/bin/env bash
# Monitoring benchmark (issue 12): check results ingested over HTTP in batches of 1,000;
# the SLA.1–SLA.5 rows for a year of 50 systems with 10,000 outages and 525,600 response
# times; a year of Nagios log (1,000,000 lines) imported.
#   bench/monitoring.sh [sqlite|postgres|both]
# Settings: THREADS (client connections, default 2), LOG_LINES (default 1000000), HELPDESK_BIN,
# PG_ANALYZE (1: VACUUM ANALYZE before the report is timed on PostgreSQL, as autovacuum would).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PORT="${PORT:-18090}"
LOG_LINES="${LOG_LINES:-1000000}"

run_backend() {
    local backend="$1"
    make_work_dir
    trap cleanup EXIT
    fresh_database "$backend" monitoring
    # SLA.1–SLA.5 over the 50 systems: four availability groups and S50's response time.
    cat >"$WORK_DIR/helpdesk.toml" <<TOML
[sla."SLA.1"]
systems = [$(printf '"S%02d",' $(seq 1 10) | sed 's/,$//')]
[sla."SLA.2"]
systems = [$(printf '"S%02d",' $(seq 11 20) | sed 's/,$//')]
group = "any"
[sla."SLA.3"]
systems = ["S50"]
statistic = "p99"
[sla."SLA.4"]
systems = [$(printf '"S%02d",' $(seq 21 35) | sed 's/,$//')]
min_outage_seconds = 120
[sla."SLA.5"]
systems = [$(printf '"S%02d",' $(seq 36 50) | sed 's/,$//')]
calendar = "default"
TOML
    ADMIN_TOKEN="$(run_helpdesk user add --name bench --role admin)"
    start_service
    log "$backend: ingest and report"
    # On PostgreSQL the report is timed on analysed tables, as autovacuum leaves them a
    # minute after the ingest (PG_ANALYZE=0: right after it, without statistics).
    local before_report=""
    if [[ "$backend" == postgres && "${PG_ANALYZE:-1}" != 0 ]]; then
        before_report="psql -X -q '$DATABASE_URL' -c 'VACUUM ANALYZE'"
    fi
    BEFORE_REPORT="$before_report" ADMIN_TOKEN="$ADMIN_TOKEN" PORT="$PORT" \
        python3 "$BENCH_DIR/monitoring_load.py"
    stop_service
    if [[ -n "${PROBE:-}" ]]; then "$PROBE" "$DATABASE_URL"; fi
    log "$backend: Nagios log import, $LOG_LINES lines"
    python3 - "$WORK_DIR/nagios.log" "$LOG_LINES" <<'PY'
import random, sys
path, lines = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
start = 1451602800
with open(path, "w") as out:
    t = start
    written = 0
    while written < lines:
        if written % 100_000 == 0:
            for h in range(1, 51):
                out.write(f"[{t}] CURRENT HOST STATE: host{h:02};UP;HARD;1;PING OK\n")
                written += 1
        h = rng.randint(1, 50)
        t += rng.randint(1, 60)
        kind = rng.random()
        if kind < 0.45:
            out.write(f"[{t}] HOST ALERT: host{h:02};{rng.choice(['DOWN', 'UP'])};{rng.choice(['HARD', 'SOFT'])};1;PING\n")
        elif kind < 0.9:
            out.write(f"[{t}] SERVICE ALERT: host{h:02};HTTP;{rng.choice(['CRITICAL', 'OK', 'WARNING'])};HARD;1;HTTP\n")
        else:
            out.write(f"[{t}] HOST NOTIFICATION: admin;host{h:02};DOWN;notify;PING\n")
        written += 1
PY
    local maps=()
    for h in $(seq -w 1 50); do maps+=(--map "host$h=S$h" --map "host$h;HTTP=S$h"); done
    local t0 t1
    t0=$(date +%s.%N)
    run_helpdesk monitoring import --nagios-log "$WORK_DIR/nagios.log" "${maps[@]}"
    t1=$(date +%s.%N)
    echo "RESULT nagios_import_seconds $(echo "$t1 - $t0" | bc)"
    cleanup
    trap - EXIT
}

ensure_build
machine_summary
case "${1:-sqlite}" in
    both) run_backend sqlite; run_backend postgres ;;
    *) run_backend "$1" ;;
esac
