#!/usr/bin/env bash
# Summary and report benchmark: seeds 1,000,000 tickets of 2016 straight into a migrated
# database, then times GET /api/v1/reports/status-by-level for the year through the service,
# and shows the plan of the query behind it. With `reports`, it also seeds the SLA clocks,
# malfunctions, interruptions and their history (bench/report-data.sh) and times
# GET /api/v1/reports/sla and GET /api/v1/reports/malfunctions instead.
#
#   bench/seed-million.sh [sqlite|postgres] [summary|reports|all]   (default: sqlite summary)
#
# Settings (environment):
#   TICKETS=1000000   how many tickets to seed
#   AGENCIES=10       agencies to seed; 90% of the tickets get one of them (agency 1: 9%), 10% none
#   RUNS=10           timed requests per URL (after one untimed warm-up request)
#   PORT=18080        where the service listens (127.0.0.1 only)
#   KEEP_DB=1         keep the seeded database (and print its URL) instead of dropping it
#   HELPDESK_BIN=path use this binary instead of building target/release/helpdesk
#
# What is seeded: one admin user (created by `helpdesk user add`, whose token is used for
# the requests), AGENCIES agencies, and TICKETS tickets with numbers 2016-000001..., the
# status/level mix of SPEC §2's 2016 table (resolved 49.8% / closed not in scope 6.3% at
# level 1; resolved 42.6% / closed not in scope 1.2% / open / new at level 2), reported_at
# spread evenly over 2016 in Europe/Rome (2015-12-31 23:00 UTC to 2016-12-31 23:00 UTC), and
# the year's counter set so that the service goes on numbering after them.
# Not seeded: ticket_events (the summary reads only tickets, through the index
# tickets_status_level_reported), idempotency keys.
# SQLite: timed first as seeded (no statistics, as the service leaves a file), then after
# ANALYZE. PostgreSQL: after VACUUM ANALYZE (needed for index-only scans; autovacuum would
# get there on its own). So the seeded tickets have no history;
# they are for the summary and list benchmarks, not for the events API.
# `reports`/`all`: what bench/report-data.sh says it seeds, in the same transaction; the
# malfunction tickets (2.1 %) are then the only ones with a history.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

backend="${1:-sqlite}"
case "$backend" in sqlite|postgres) ;; *) die "usage: $0 [sqlite|postgres] [summary|reports|all]" ;; esac
what="${2:-summary}"
case "$what" in summary|reports|all) ;; *) die "usage: $0 [sqlite|postgres] [summary|reports|all]" ;; esac
source "$BENCH_DIR/report-data.sh"
TICKETS="${TICKETS:-1000000}"
AGENCIES="${AGENCIES:-10}"
RUNS="${RUNS:-10}"

ensure_build
ensure_tool curl curl
if [[ "$backend" == sqlite ]]; then ensure_tool sqlite3 sqlite3; ensure_sqlite_probe; else
    ensure_tool psql postgresql-client
    psql_admin -c 'SELECT 1' >/dev/null || die "PostgreSQL not reachable at $PG_HOST:$PG_PORT"
fi

finish() {
    if [[ -n "${KEEP_DB:-}" ]]; then
        stop_service
        echo "kept: DATABASE_URL=$DATABASE_URL (token $TOKEN)" >&2
    else
        cleanup
    fi
}
trap finish EXIT
trap 'exit 130' INT TERM

make_work_dir
fresh_database "$backend" seed
log "$backend: $DATABASE_URL"
run_helpdesk migrate
TOKEN="$(run_helpdesk user add --name seeder --role admin)"
USER_ID="$(db_query "SELECT id FROM users WHERE name = 'seeder'")"
[[ -n "$USER_ID" ]] || die "seeder user not found"

# The SPEC §2 mix, per 4,788 tickets, picked by r = (n * 7919) mod 4788 (7919 is prime to
# 4788, so every block of 4,788 consecutive tickets has exactly the table's counts).
STATUS_CASE="CASE WHEN r < 2383 THEN 'resolved' WHEN r < 2687 THEN 'closed_not_in_scope'
    WHEN r < 4726 THEN 'resolved' WHEN r < 4785 THEN 'closed_not_in_scope'
    WHEN r < 4787 THEN 'open' ELSE 'new' END"
LEVEL_CASE="CASE WHEN r < 2687 THEN 1 ELSE 2 END"
CHANNEL_CASE="CASE n % 4 WHEN 0 THEN 'phone' WHEN 1 THEN 'email' WHEN 2 THEN 'portal' ELSE 'monitoring' END"
# Ids are valid UUIDs: tickets 00000000-0000-7000-8000-<n in hex>, agencies
# 00000000-0000-7000-a000-0000000000NN.

seed_sqlite() {
    local db="${DATABASE_URL#sqlite://}"
    sqlite3 "$db" <<SQL
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
BEGIN;
WITH RECURSIVE a(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM a WHERE k < $AGENCIES)
INSERT INTO agencies (id, code, name, contacts, created_at, updated_at, version)
SELECT '00000000-0000-7000-a000-' || printf('%012d', k), printf('AG%02d', k),
       'Agency ' || k, '["ops' || k || '@example.org"]',
       '2015-12-01 00:00:00', '2015-12-01 00:00:00', 1
FROM a;
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $TICKETS),
t AS (SELECT n, (n * 7919) % 4788 AS r,
             strftime('%Y-%m-%d %H:%M:%f', 1451602800 + (n - 1) * (31622400.0 / $TICKETS), 'unixepoch') AS at
      FROM seq)
INSERT INTO tickets (id, number, subject, description, channel, status, level, assignee_id,
    agency_id, requester_name, requester_email, requester_phone, malfunction, interruption_open,
    reported_at, last_event_at,$EXTRA_COLS created_by, created_at, updated_at, version)
SELECT '00000000-0000-7000-8000-' || printf('%012x', n),
       '2016-' || printf('%06d', n),
       'Seeded ticket ' || n, '', $CHANNEL_CASE,
       $STATUS_CASE, $LEVEL_CASE,
       CASE WHEN r >= 4787 THEN NULL ELSE '$USER_ID' END,
       CASE WHEN n % 10 = 0 OR $AGENCIES = 0 THEN NULL
            ELSE '00000000-0000-7000-a000-' || printf('%012d', (n / 10) % $AGENCIES + 1) END,
       NULL, NULL, NULL, $MALFUNCTION_EXPR, 0,
       at, at,$EXTRA_VALUES '$USER_ID', at, at, 1
FROM t;
INSERT INTO ticket_counters (year, last_number) VALUES (2016, $TICKETS)
    ON CONFLICT (year) DO UPDATE SET last_number = excluded.last_number;
$REPORT_SQL
COMMIT;
SQL
    sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
}

seed_postgres() {
    psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q <<SQL
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
BEGIN;
INSERT INTO agencies (id, code, name, contacts, created_at, updated_at, version)
SELECT '00000000-0000-7000-a000-' || lpad(k::text, 12, '0'), 'AG' || lpad(k::text, 2, '0'),
       'Agency ' || k, '["ops' || k || '@example.org"]',
       '2015-12-01 00:00:00', '2015-12-01 00:00:00', 1
FROM generate_series(1, $AGENCIES) k;
INSERT INTO tickets (id, number, subject, description, channel, status, level, assignee_id,
    agency_id, requester_name, requester_email, requester_phone, malfunction, interruption_open,
    reported_at, last_event_at,$EXTRA_COLS created_by, created_at, updated_at, version)
SELECT '00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'),
       '2016-' || lpad(n::text, greatest(6, length(n::text)), '0'),
       'Seeded ticket ' || n, '', $CHANNEL_CASE,
       $STATUS_CASE, $LEVEL_CASE,
       CASE WHEN r >= 4787 THEN NULL ELSE '$USER_ID' END,
       CASE WHEN n % 10 = 0 OR $AGENCIES = 0 THEN NULL
            ELSE '00000000-0000-7000-a000-' || lpad(((n / 10) % $AGENCIES + 1)::text, 12, '0') END,
       NULL, NULL, NULL, $MALFUNCTION_EXPR, false,
       at, at,$EXTRA_VALUES '$USER_ID', at, at, 1
FROM (SELECT n, (n::bigint * 7919) % 4788 AS r,
             TIMESTAMP '2015-12-31 23:00:00'
                 + ((n - 1) * (31622400.0 / $TICKETS))::float8 * INTERVAL '1 second' AS at
      FROM generate_series(1, $TICKETS) n) t;
INSERT INTO ticket_counters (year, last_number) VALUES (2016, $TICKETS)
    ON CONFLICT (year) DO UPDATE SET last_number = excluded.last_number;
$REPORT_SQL
COMMIT;
VACUUM (ANALYZE) agencies, tickets, ticket_counters$REPORT_TABLES;
CHECKPOINT;
SQL
}

# Columns that later schema versions added: tickets.next_deadline (the nearest running SLA
# deadline; 9999-12-31 23:59:59 = none, which is what seeded tickets without clocks have).
EXTRA_COLS="" EXTRA_VALUES=""
if [[ "$backend" == sqlite ]]; then
    has_next_deadline=$(db_query "SELECT count(*) FROM pragma_table_info('tickets') WHERE name = 'next_deadline'")
else
    has_next_deadline=$(db_query "SELECT count(*) FROM information_schema.columns WHERE table_name = 'tickets' AND column_name = 'next_deadline'")
fi
if [[ "$has_next_deadline" == 1 ]]; then
    EXTRA_COLS=" next_deadline,"
    EXTRA_VALUES=" '9999-12-31 23:59:59',"
fi

REPORT_SQL="" REPORT_TABLES=""
if [[ "$what" != summary ]]; then
    REPORT_SQL="$(report_data_sql)"
    REPORT_TABLES=", ticket_clocks, ticket_events, ticket_interruptions, ticket_affected_agencies,
        report_deliveries, outbox"
fi

log "$backend: seeding $TICKETS tickets and $AGENCIES agencies${REPORT_SQL:+, and the report data}"
seed_start=$(date +%s.%N)
"seed_$backend"
seed_secs=$(awk -v a="$seed_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
log "$backend: seeded in ${seed_secs}s (PostgreSQL: including VACUUM ANALYZE)"
db_query "SELECT status, level, count(*) FROM tickets GROUP BY status, level ORDER BY level, status"
if [[ "$backend" == sqlite ]]; then
    ls -l "${DATABASE_URL#sqlite://}"* | awk '{print $5, $9}'
else
    db_query "SELECT 'database size: ' || pg_size_pretty(pg_database_size(current_database()))
              || ', index tickets_reported_status_level: '
              || pg_size_pretty(pg_relation_size('tickets_reported_status_level'))"
fi

# The query the service runs for the year (bounds as the service computes them from the
# dates: local midnight in Europe/Rome, stored as UTC).
FROM_TS='2015-12-31 23:00:00'
TO_TS='2016-12-31 23:00:00'
# The service runs one range count per (status, level); this is the largest of them.
QUERY="SELECT count(*) FROM tickets WHERE status = 'resolved' AND level = 1 AND reported_at >= '$FROM_TS' AND reported_at < '$TO_TS'"
AGENCY_ID='00000000-0000-7000-a000-000000000001'
AGENCY_QUERY="SELECT count(*) FROM tickets WHERE agency_id = '$AGENCY_ID' AND status = 'resolved' AND level = 1 AND reported_at >= '$FROM_TS' AND reported_at < '$TO_TS'"
if [[ "$backend" == postgres ]]; then # PostgreSQL's service runs one GROUP BY instead
    QUERY="SELECT status, level, count(*) FROM tickets WHERE reported_at >= '$FROM_TS' AND reported_at < '$TO_TS' GROUP BY status, level"
    AGENCY_QUERY="SELECT status, level, count(*) FROM tickets WHERE agency_id = '$AGENCY_ID' AND reported_at >= '$FROM_TS' AND reported_at < '$TO_TS' GROUP BY status, level"
fi

show_plans() { # show_plans LABEL: plans and bare query times, outside the service
    log "$backend ($1): query plans and the bare query"
    if [[ "$backend" == sqlite ]]; then
        local db="${DATABASE_URL#sqlite://}"
        echo "-- EXPLAIN QUERY PLAN $QUERY"
        "$SQLITE_PROBE" "$db" "EXPLAIN QUERY PLAN $QUERY"
        echo "-- EXPLAIN QUERY PLAN (agency) $AGENCY_QUERY"
        "$SQLITE_PROBE" "$db" "EXPLAIN QUERY PLAN $AGENCY_QUERY"
        echo "-- the bare query, SQLite $("$SQLITE_PROBE" "$db" --version), default page cache:"
        wait_for_quiet
        "$SQLITE_PROBE" "$db" -t "$RUNS" "$QUERY" | grep '^time'
        echo "-- the bare agency query:"
        "$SQLITE_PROBE" "$db" -t "$RUNS" "$AGENCY_QUERY" | grep '^time'
    else
        wait_for_quiet
        echo "-- EXPLAIN (ANALYZE, BUFFERS) $QUERY"
        db_query "EXPLAIN (ANALYZE, BUFFERS) $QUERY"
        echo "-- the same with a generic plan (what a prepared statement may switch to after 5 runs):"
        psql "$DATABASE_URL" -qAt <<SQL
SET plan_cache_mode = force_generic_plan;
PREPARE summary(timestamp, timestamp) AS
    SELECT status, level, count(*) FROM tickets WHERE reported_at >= \$1 AND reported_at < \$2
    GROUP BY status, level;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE summary('$FROM_TS', '$TO_TS');
SQL
        echo "-- EXPLAIN (ANALYZE, BUFFERS) (agency) $AGENCY_QUERY"
        db_query "EXPLAIN (ANALYZE, BUFFERS) $AGENCY_QUERY"
        echo "-- the bare query in psql (\\timing), $RUNS runs:"
        pg_time "$QUERY"
        echo "-- the bare agency query:"
        pg_time "$AGENCY_QUERY"
    fi
}

pg_time() { # pg_time SQL: RUNS executions in one session, min/median/max of psql's \timing
    wait_for_quiet
    { echo '\timing on'; echo '\o /dev/null'; for _ in $(seq 1 "$RUNS"); do echo "$1;"; done; } |
        psql "$DATABASE_URL" -qAt 2>&1 | awk '/^Time:/ {print $2}' | sort -n | awk '
        { v[NR] = $1 }
        END { med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
              printf "time over %d runs: min %.1f ms, median %.1f ms, max %.1f ms\n", NR, v[1], med, v[NR] }'
}

BASE="http://127.0.0.1:$PORT/api/v1/reports/status-by-level"
time_url() { # time_url LABEL URL [JQ]: one warm-up request (its JQ shown, default .totals),
    # then RUNS timed ones.
    local label="$1" url="$2" filter="${3:-.totals}" times=() t code
    wait_for_quiet
    code=$(curl -sS -o "$WORK_DIR/summary.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$url")
    [[ "$code" == 200 ]] || { cat "$WORK_DIR/summary.json" >&2; die "$url answered $code"; }
    echo "-- $label: $url"
    jq -c "$filter" "$WORK_DIR/summary.json"
    local cpu_ref
    cpu_ref=$(cpu_reference)
    for _ in $(seq 1 "$RUNS"); do
        t=$(curl -sS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$url")
        times+=("$t")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" -v b="$backend" -v bg="$BACKGROUND_BUSY" -v cpu="$cpu_ref" '
        { v[NR] = $1 * 1000 }
        END { med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
              printf "SUMMARY %s %s runs=%d min_ms=%.1f median_ms=%.1f max_ms=%.1f (other work before: %s%%, cpu_ref %s ms)\n",
                     b, label, NR, v[1], med, v[NR], bg, cpu }'
}
time_http() { # time_http STAGE: a fresh service, the year, the year for one agency, a month
    log "$backend ($1): timing the summary over HTTP ($RUNS runs each, after one warm-up)"
    start_service
    time_url "$1/year" "$BASE?from=2016-01-01&to=2017-01-01"
    time_url "$1/year-agency" "$BASE?from=2016-01-01&to=2017-01-01&agency_id=$AGENCY_ID"
    time_url "$1/month" "$BASE?from=2016-03-01&to=2016-04-01"
    stop_service
}

# The reports (`reports`/`all`): GET /reports/sla for the year (all agencies, and one) and
# GET /reports/malfunctions for 2016-Q4 (one agency, and all), their figures checked against
# the database, the plans of the statements behind them and the bare statements' times.
REPORTS="http://127.0.0.1:$PORT/api/v1/reports"
Q_FROM_TS='2016-09-30 22:00:00' # 2016-10-01 in Rome
SLA_JQ='[.rows[] | [.code, .met, .breached, .running, .median_elapsed_seconds, .p90_elapsed_seconds, .reports_delivered]]'
MALF_JQ='.totals + {rows: (.rows | length)}'
time_reports() { # time_reports STAGE: a fresh service, the two reports and their variants
    log "$backend ($1): timing the reports over HTTP ($RUNS runs each, after one warm-up)"
    start_service
    time_url "$1/sla-year" "$REPORTS/sla?from=2016-01-01&to=2017-01-01" "$SLA_JQ"
    time_url "$1/sla-year-agency" "$REPORTS/sla?from=2016-01-01&to=2017-01-01&agency_id=$AGENCY_ID" "$SLA_JQ"
    time_url "$1/malfunctions-quarter-agency" \
        "$REPORTS/malfunctions?from=2016-10-01&to=2017-01-01&agency_id=$AGENCY_ID" "$MALF_JQ"
    check_malfunctions
    time_url "$1/malfunctions-quarter" "$REPORTS/malfunctions?from=2016-10-01&to=2017-01-01" "$MALF_JQ"
    stop_service
}

# What the reports should say, from the database: per SLA [code, met, breached, running]
# (an unstopped clock past its deadline counts as breached), and the quarter's interruptions.
check_sla() {
    local now expected got
    now=$(date -u '+%Y-%m-%d %H:%M:%S')
    expected=$(db_query "SELECT code, sum(CASE WHEN outcome = 'met' THEN 1 ELSE 0 END),
            sum(CASE WHEN outcome = 'breached' OR (outcome IS NULL AND deadline < '$now') THEN 1 ELSE 0 END),
            sum(CASE WHEN outcome IS NULL AND (deadline IS NULL OR deadline >= '$now') THEN 1 ELSE 0 END)
        FROM ticket_clocks WHERE reported_at >= '$FROM_TS' AND reported_at < '$TO_TS'
            AND applies_from <= '$now' GROUP BY code" | sort -V | tr '|' ',' | paste -sd' ')
    got=$(curl -sS -H "Authorization: Bearer $TOKEN" "$REPORTS/sla?from=2016-01-01&to=2017-01-01" |
        jq -r '.rows[] | select(.met != null) | [.code, .met, .breached, .running] | join(",")' | paste -sd' ')
    if [[ "$expected" == "$got" ]]; then echo "CHECK sla-year ok: $got"
    else echo "CHECK sla-year MISMATCH: database $expected, report $got"; fi
}
check_malfunctions() {
    local expected got
    expected=$(db_query "SELECT count(*) FROM ticket_interruptions i
        JOIN ticket_affected_agencies a ON a.ticket_id = i.ticket_id AND a.agency_id = '$AGENCY_ID'
        WHERE i.started_at < '$TO_TS' AND (i.ended_at IS NULL OR i.ended_at > '$Q_FROM_TS')")
    got=$(jq '.totals.interruptions' "$WORK_DIR/summary.json")
    if [[ "$expected" == "$got" ]]; then echo "CHECK malfunctions-quarter-agency ok: $got interruptions"
    else echo "CHECK malfunctions-quarter-agency MISMATCH: database $expected, report $got"; fi
}

# The statements behind the reports, as diesel writes them (literal values here; PostgreSQL
# plans the service's statements with these values too: plan_cache_mode=force_custom_plan).
report_statements() {
    local now agency_ids ids
    now=$(date -u '+%Y-%m-%d %H:%M:%S')
    local clocks="FROM ticket_clocks WHERE code = 'SLA.6' AND reported_at >= '$FROM_TS' AND reported_at < '$TO_TS' AND applies_from <= '$now'"
    RS_LABELS=() RS_SQL=()
    RS_LABELS+=("sla: SLA.6 stopped clocks, year"); RS_SQL+=("SELECT outcome, elapsed_seconds $clocks AND outcome IS NOT NULL")
    RS_LABELS+=("sla: SLA.6 unstopped clocks, year"); RS_SQL+=("SELECT deadline $clocks AND outcome IS NULL")
    RS_LABELS+=("sla: SLA.6 stopped clocks, year, one agency"); RS_SQL+=("SELECT outcome, elapsed_seconds $clocks AND agency_id = '$AGENCY_ID' AND outcome IS NOT NULL")
    RS_LABELS+=("sla: SLA.6 unstopped clocks, year, one agency"); RS_SQL+=("SELECT deadline $clocks AND agency_id = '$AGENCY_ID' AND outcome IS NULL")
    RS_LABELS+=("sla: delivered periods"); RS_SQL+=("SELECT DISTINCT report_deliveries.period_from, report_deliveries.period_to FROM report_deliveries INNER JOIN outbox ON outbox.id = report_deliveries.outbox_id WHERE outbox.status = 'sent' AND report_deliveries.period_from >= '$FROM_TS' AND report_deliveries.period_to <= '$TO_TS'")
    local interruptions="SELECT tickets.id, tickets.number, tickets.subject, tickets.affected_services, tickets.cause, tickets.actions_taken, ticket_interruptions.started_at, ticket_interruptions.ended_at FROM ticket_interruptions INNER JOIN tickets ON ticket_interruptions.ticket_id = tickets.id WHERE ticket_interruptions.started_at < '$TO_TS' AND (ticket_interruptions.ended_at IS NULL OR ticket_interruptions.ended_at > '$Q_FROM_TS')"
    RS_LABELS+=("malfunctions: interruptions of the quarter, one agency"); RS_SQL+=("$interruptions AND ticket_interruptions.ticket_id IN (SELECT ticket_affected_agencies.ticket_id FROM ticket_affected_agencies WHERE ticket_affected_agencies.agency_id = '$AGENCY_ID')")
    RS_LABELS+=("malfunctions: interruptions of the quarter, all agencies"); RS_SQL+=("$interruptions")
    # The agency's tickets, as the literal lists the service sends (first chunk of 500).
    agency_ids=$(db_query "SELECT i.ticket_id FROM ticket_interruptions i JOIN ticket_affected_agencies a ON a.ticket_id = i.ticket_id AND a.agency_id = '$AGENCY_ID' WHERE i.started_at < '$TO_TS' AND (i.ended_at IS NULL OR i.ended_at > '$Q_FROM_TS') ORDER BY 1 LIMIT 500")
    ids=$(printf "'%s'," $agency_ids); ids="${ids%,}"
    [[ -n "$ids" ]] || ids="''"
    RS_LABELS+=("malfunctions: their events ($(wc -w <<<"$agency_ids") tickets)"); RS_SQL+=("SELECT ticket_id, type, at FROM ticket_events WHERE ticket_id IN ($ids) AND type IN ('start_intervention', 'notify_agency', 'notify_users') ORDER BY ticket_id, sequence")
    RS_LABELS+=("malfunctions: their clocks"); RS_SQL+=("SELECT * FROM ticket_clocks WHERE ticket_id IN ($ids) ORDER BY ticket_id, code")
}

show_report_plans() { # show_report_plans LABEL
    log "$backend ($1): the reports' statements: plans and bare times ($RUNS runs)"
    report_statements
    local i sql
    for i in "${!RS_SQL[@]}"; do
        sql="${RS_SQL[$i]}"
        echo "-- ${RS_LABELS[$i]}: ${sql:0:400}$([[ ${#sql} -gt 400 ]] && echo ' ...')"
        if [[ "$backend" == sqlite ]]; then
            "$SQLITE_PROBE" "${DATABASE_URL#sqlite://}" "EXPLAIN QUERY PLAN $sql"
            wait_for_quiet
            # (rows are printed by the first run only; the median is over runs that step and
            # compute them, as the service does, without printing)
            "$SQLITE_PROBE" "${DATABASE_URL#sqlite://}" -t "$RUNS" "$sql" | grep '^time'
        else
            wait_for_quiet
            db_query "EXPLAIN (ANALYZE, BUFFERS) $sql"
            pg_time "$sql"
        fi
    done
}

report_counts() {
    log "$backend: report data"
    db_query "SELECT code, count(*), sum(CASE WHEN outcome = 'met' THEN 1 ELSE 0 END),
        sum(CASE WHEN outcome = 'breached' THEN 1 ELSE 0 END), sum(CASE WHEN outcome IS NULL THEN 1 ELSE 0 END)
        FROM ticket_clocks GROUP BY code ORDER BY code" | sed '1i code|clocks|met|breached|unstopped'
    db_query "SELECT 'malfunctions ' || (SELECT count(*) FROM tickets WHERE malfunction)
        || ', interruptions ' || (SELECT count(*) FROM ticket_interruptions)
        || ', affected agencies ' || (SELECT count(*) FROM ticket_affected_agencies)
        || ', events ' || (SELECT count(*) FROM ticket_events)
        || ', deliveries ' || (SELECT count(*) FROM report_deliveries)"
}

summary_steps() { # summary_steps STAGE LABEL
    [[ "$what" == reports ]] && return
    show_plans "$2"
    time_http "$1"
}
report_steps() { # report_steps STAGE LABEL
    [[ "$what" == summary ]] && return
    show_report_plans "$2"
    time_reports "$1"
    start_service; check_sla; stop_service
}

[[ "$what" == summary ]] || report_counts
if [[ "$backend" == sqlite ]]; then
    # The service never runs ANALYZE, so a real SQLite file usually has no statistics:
    # measure as seeded, then again after ANALYZE (which changes SQLite's plan).
    summary_steps "no-stats" "no statistics"
    report_steps "no-stats" "no statistics"
    log "sqlite: ANALYZE (with the service's SQLite, so STAT4 tables are written)"
    "$SQLITE_PROBE" "${DATABASE_URL#sqlite://}" "ANALYZE"
    summary_steps "analyzed" "after ANALYZE"
    report_steps "analyzed" "after ANALYZE"
else
    summary_steps "analyzed" "after VACUUM ANALYZE"
    report_steps "analyzed" "after VACUUM ANALYZE"
fi
