#!/usr/bin/env bash
# Calendar change benchmark: a closure added to the `default` calendar while RUNNING open
# tickets count their SLA.6 and SLA.7 clocks in it, with ticket creation going on. Measures
# how long the calendar follower takes to bring every clock up to the new version of the
# calendar, and the creation latency meanwhile, against the issue's target: "a closure added
# with 100,000 running clocks on its calendar is fully applied in under 10 s on SQLite and
# PostgreSQL while ticket creation keeps its p99 under 50 ms".
#
#   bench/calendar-change.sh [sqlite|postgres|both]      (default: both)
#
# Settings (environment):
#   RUNNING=100000         open tickets to create through POST /api/v1/tickets before the
#                          change (2 running clocks each on `default`)
#   SEED_CONNECTIONS=32    wrk connections for that seeding (bench/seed_tickets.lua)
#   CONNECTIONS=16         wrk connections of the measured creation runs (bench/post_ticket.lua)
#   RATE=0                 creations per second the measured runs aim at (each connection
#                          waits CONNECTIONS/RATE s before each request); 0: as fast as the
#                          machine goes, which leaves the follower only what creation spares
#   THREADS=1              wrk threads of the measured runs (1 leaves the second core to the
#                          service and the database)
#   BASELINE_DURATION=10s  creation run without a calendar change, just before the change
#   SETTLE=3               seconds of creation load before the closure is posted
#   STOP_AT_APPLY=1        stop wrk (SIGINT, it then reports) as soon as pending_clocks is 0,
#                          so its figures cover SETTLE + the apply and no quiet time after;
#                          0: let it run DURATION
#   DURATION=20s           the measured run's length with STOP_AT_APPLY=0
#   APPLY_TIMEOUT=300      seconds after which a change still pending counts as not applied
#   POLL_INTERVAL=0.1      shortest pause between two GET /api/v1/calendars/default, and the
#                          pause near the end, which bounds the error of the apply time
#   POLL_MAX=1             longest pause: while much is pending, the pause is a quarter of
#                          the time left at the rate so far (clamped to POLL_INTERVAL..POLL_MAX).
#                          Each GET counts the pending clocks, which takes 10-110 ms with
#                          200,000+ of them; polling every 100 ms throughout would take a
#                          good part of a core from the follower. POLL_MAX=0.1: fixed 100 ms
#   CLOSURE_DAYS=14        the closure runs from today (Europe/Rome) to today + CLOSURE_DAYS,
#                          which holds every running clock's deadline (SLA.6: 1 business
#                          hour, SLA.7: 6, from reports made now)
#   SAMPLE=1000            running clocks whose deadline is recomputed through
#                          POST /api/v1/calendars/default/deadlines and compared
#   APPLY_TARGET=10        the targets: seconds for the apply,
#   P99_TARGET=50          milliseconds for the creation p99 during it
#   SQLITE_SYNC=full       HELPDESK_SQLITE_SYNCHRONOUS on SQLite
#   PG_ANALYZE=1           ANALYZE the PostgreSQL database after the seeding, as autovacuum
#                          would have by then (0: change the calendar with the plans of a
#                          database without statistics, as a fresh one is for a minute or so)
#   PG_DB_SETTINGS="name=value ..."  ALTER DATABASE ... SET for the fresh PostgreSQL database
#   PORT=18080             where the service listens (127.0.0.1 only)
#   KEEP_DB=1              keep each backend's database (and print its URL and token)
#   HELPDESK_BIN=path      use this binary instead of building target/release/helpdesk
#   HELPDESK_*             passed through to the service; HELPDESK_LOG defaults to
#                          "warn,helpdesk::jobs::calendar_follower=info" (the follower's
#                          "clocks follow their calendars" line, without a line per request)
#
# Per backend: a fresh database, `helpdesk migrate`, an admin from `helpdesk user add`, the
# release service (rate limit off, the real clock). It seeds RUNNING tickets through the API
# (so their clocks are what the service computes, on the calendar's current version), runs a
# baseline creation run, then starts the measured creation run in the background, posts the
# closure after SETTLE seconds and polls GET /calendars/default until pending_clocks (clocks
# computed with an older version of the calendar) is 0. "apply" is the time from the start of
# the POST to the first answer with pending_clocks 0. It then checks the result in the
# database (see check_applied) and prints wrk's output, the follower's log lines and one
# SUMMARY line; at the end, the SUMMARY lines of all backends.
# The change affects every clock on `default`: the seeded tickets' and those the baseline
# run and the first SETTLE seconds created, so with the defaults about 300,000 clocks on
# SQLite and 240,000 on PostgreSQL, not 100,000. The SUMMARY gives the count (pending_clocks
# in the POST's answer, checked to be at least RUNNING), the rate, and the time 100,000 clocks
# take at that rate; for a change of about 100,000 clocks run e.g.
# RUNNING=22000 BASELINE_DURATION=5s (SQLite) or RUNNING=40000 BASELINE_DURATION=5s (PostgreSQL).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

target="${1:-both}"
case "$target" in
    sqlite) backends=(sqlite) ;;
    postgres) backends=(postgres) ;;
    both) backends=(sqlite postgres) ;;
    *) die "usage: $0 [sqlite|postgres|both]" ;;
esac
RUNNING="${RUNNING:-100000}"
SEED_CONNECTIONS="${SEED_CONNECTIONS:-32}"
CONNECTIONS="${CONNECTIONS:-16}"
RATE="${RATE:-0}"
if [[ "$RATE" -gt 0 ]]; then DELAY_MS=$((CONNECTIONS * 1000 / RATE)); else DELAY_MS=0; fi
THREADS="${THREADS:-1}"
BASELINE_DURATION="${BASELINE_DURATION:-10s}"
SETTLE="${SETTLE:-3}"
STOP_AT_APPLY="${STOP_AT_APPLY:-1}"
DURATION="${DURATION:-20s}"
APPLY_TIMEOUT="${APPLY_TIMEOUT:-300}"
POLL_INTERVAL="${POLL_INTERVAL:-0.1}"
POLL_MAX="${POLL_MAX:-1}"
CLOSURE_DAYS="${CLOSURE_DAYS:-14}"
SAMPLE="${SAMPLE:-1000}"
APPLY_TARGET="${APPLY_TARGET:-10}"
P99_TARGET="${P99_TARGET:-50}"
SQLITE_SYNC="${SQLITE_SYNC:-full}"
PG_ANALYZE="${PG_ANALYZE:-1}"
export HELPDESK_LOG="${HELPDESK_LOG:-warn,helpdesk::jobs::calendar_follower=info}"

ensure_build
ensure_tool wrk wrk
ensure_tool curl curl
ensure_tool jq jq
for b in "${backends[@]}"; do
    case "$b" in
        sqlite) ensure_tool sqlite3 sqlite3 ;;
        postgres) ensure_tool psql postgresql-client
                  psql_admin -c 'SELECT 1' >/dev/null || die "PostgreSQL not reachable at $PG_HOST:$PG_PORT" ;;
    esac
done

WRK_PID=""
finish() {
    if [[ -n "$WRK_PID" ]]; then kill -INT "$WRK_PID" 2>/dev/null || true; wait "$WRK_PID" 2>/dev/null || true; fi
    WRK_PID=""
    cleanup
}
trap finish EXIT
trap 'exit 130' INT TERM

SUMMARIES=()
CLK_TCK=$(getconf CLK_TCK)
API="http://127.0.0.1:$PORT/api/v1"

# proc_cpu PID: user+system clock ticks the process (all its threads) used so far.
proc_cpu() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# machine_cpu: "busy total" ticks over all cores since boot.
machine_cpu() { awk '/^cpu / {t=0; for (i=2;i<=NF;i++) t+=$i; print t-$5-$6, t}' /proc/stat; }
now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN{printf "%.2f", (b-a)/1e9}'; }
# field KEY LINE: the value of KEY=... in a RESULT line.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
api() { # api METHOD PATH [BODY|@FILE]: prints the body, then the status code on a line of its own
    local method="$1" path="$2" data=()
    [[ $# -gt 2 ]] && data=(-H 'Content-Type: application/json' --data-binary "$3")
    curl -sS -X "$method" -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" "${data[@]}" "$API$path"
}

# seed: creates tickets through the API until there are RUNNING. One wrk run usually does
# it (seed_tickets.lua stops after the number still missing); non-2xx answers are retried
# by another round.
seed() {
    local have start round=0 pid non2xx=0 result
    start=$(now_ns)
    while :; do
        have=$(db_query "SELECT count(*) FROM tickets")
        (( have < RUNNING )) || break
        (( ++round <= 10 )) || die "seeding: still $have tickets after 10 rounds"
        rm -f "$WORK_DIR/seed.done"
        TOKEN="$TOKEN" LIMIT=$((RUNNING - have)) DONE_FILE="$WORK_DIR/seed.done" \
            wrk -t1 -c"$SEED_CONNECTIONS" -d3600s --timeout 10s -s "$BENCH_DIR/seed_tickets.lua" \
            "http://127.0.0.1:$PORT" >"$WORK_DIR/seed.out" &
        pid=$!; WRK_PID=$pid
        while kill -0 "$pid" 2>/dev/null && [[ ! -e "$WORK_DIR/seed.done" ]]; do sleep 0.2; done
        kill -INT "$pid" 2>/dev/null || true
        wait "$pid" || die "seeding: wrk failed: $(cat "$WORK_DIR/seed.out")"
        WRK_PID=""
        result=$(grep '^RESULT' "$WORK_DIR/seed.out") || die "seeding: no RESULT from wrk"
        non2xx=$((non2xx + $(field non2xx "$result") + $(field socket_errors "$result")))
    done
    SEED_SECS=$(secs_since "$start")
    SEED_FAILED=$non2xx
}

# run_wrk_bg OUT DURATION: the measured creation load, in the background (WRK_PID).
run_wrk_bg() {
    TOKEN="$TOKEN" DELAY_MS="$DELAY_MS" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2" --latency --timeout 10s \
        -s "$BENCH_DIR/post_ticket.lua" "http://127.0.0.1:$PORT" >"$1" &
    WRK_PID=$!
}

# utc_of_local_midnight DATE: the instant of DATE's 00:00 in Europe/Rome, as stored (UTC).
utc_of_local_midnight() { date -u -d "TZ=\"Europe/Rome\" $1 00:00" '+%Y-%m-%d %H:%M:%S'; }

# check_applied: after pending_clocks reached 0, what the database says, as CHECK lines.
#  1. No clock on `default` is computed with an older version than the calendar's (what
#     pending_clocks counts, read directly).
#  2. Every running, unpaused clock that started before the closure's end has its deadline
#     at or after the end of the closure: the deadlines were all inside the closed days
#     before the change, and none of those days counts any more.
#  3. Likewise every ticket's next_deadline (the nearest running deadline, which the
#     follower rewrites with the clocks).
#  4. SAMPLE random running clocks that never paused, of tickets reported before the POST
#     (so computed again by the follower, not at creation): their stored deadline equals the
#     deadline the service computes now for (started_at, target_seconds) through
#     POST /calendars/default/deadlines, on the calendar with the closure.
CHECKS_OK=1
check() { # check LABEL EXPECTED GOT
    if [[ "$2" == "$3" ]]; then echo "CHECK $backend $1: ok ($3)"
    else echo "CHECK $backend $1: FAILED (expected $2, got $3)"; CHECKS_OK=0; fi
}
check_applied() {
    local stale early next sample answer mismatched
    stale=$(db_query "SELECT count(*) FROM ticket_clocks WHERE calendar = 'default'
        AND calendar_version < (SELECT version FROM calendars WHERE name = 'default')")
    check "clocks computed with an older calendar version" 0 "$stale"
    early=$(db_query "SELECT count(*) FROM ticket_clocks WHERE calendar = 'default'
        AND stopped_at IS NULL AND NOT paused AND started_at < '$CLOSURE_END_UTC'
        AND (deadline IS NULL OR deadline < '$CLOSURE_END_UTC')")
    check "running clocks with a deadline before the closure's end ($CLOSURE_END_UTC UTC)" 0 "$early"
    next=$(db_query "SELECT count(*) FROM tickets WHERE next_deadline < '$CLOSURE_END_UTC'")
    check "tickets with a next_deadline before the closure's end" 0 "$next"
    if [[ "$backend" == sqlite ]]; then
        sample="SELECT replace(started_at, ' ', 'T') || 'Z', target_seconds, replace(deadline, ' ', 'T') || 'Z'"
    else
        sample="SELECT to_char(started_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), target_seconds,
            to_char(deadline, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    fi
    db_query "$sample FROM ticket_clocks WHERE calendar = 'default' AND stopped_at IS NULL
        AND NOT paused AND consumed_seconds = 0 AND deadline IS NOT NULL
        AND started_at < '$POST_UTC' ORDER BY random() LIMIT $SAMPLE" >"$WORK_DIR/sample.txt"
    jq -R -s -c '{items: [split("\n")[] | select(length > 0) | split("|")
        | {start: .[0], seconds: (.[1] | tonumber)}]}' "$WORK_DIR/sample.txt" >"$WORK_DIR/sample.json"
    answer=$(api POST /calendars/default/deadlines "@$WORK_DIR/sample.json")
    [[ "${answer##*$'\n'}" == 200 ]] || { echo "$answer" >&2; die "deadlines batch answered ${answer##*$'\n'}"; }
    # Compared as instants (to the millisecond): the two sides may print fractions differently.
    mismatched=$(jq -n --slurpfile got <(sed '$d' <<<"$answer") --rawfile stored "$WORK_DIR/sample.txt" '
        def epoch: capture("^(?<s>[^.Z]+)(\\.(?<f>[0-9]*))?Z$")
            | ((.s + "Z") | fromdateiso8601) + ((("0." + (.f // "0")) | tonumber));
        [$stored | split("\n")[] | select(length > 0) | split("|")[2]] as $want
        | [range(0; $want | length) | select((($want[.] | epoch) - ($got[0].items[.].deadline | epoch)) | fabs > 0.001)]
        | length')
    check "sampled deadlines equal to POST /calendars/default/deadlines ($(wc -l <"$WORK_DIR/sample.txt") clocks reported before the POST)" 0 "$mismatched"
    echo "-- running clocks per SLA after the change: code | clocks | earliest deadline | latest deadline"
    db_query "SELECT code, count(*), min(deadline), max(deadline) FROM ticket_clocks
        WHERE calendar = 'default' AND stopped_at IS NULL GROUP BY code ORDER BY code"
}

bench_backend() { # bench_backend BACKEND
    backend="$1"
    CHECKS_OK=1
    make_work_dir
    fresh_database "$backend" calchange
    if [[ "$backend" == sqlite ]]; then
        export HELPDESK_SQLITE_SYNCHRONOUS="$SQLITE_SYNC"
        log "$backend: $DATABASE_URL (HELPDESK_SQLITE_SYNCHRONOUS=$SQLITE_SYNC)"
    else
        unset HELPDESK_SQLITE_SYNCHRONOUS
        log "$backend: $DATABASE_URL (PG_ANALYZE=$PG_ANALYZE)"
    fi
    run_helpdesk migrate >/dev/null
    TOKEN="$(run_helpdesk user add --name bench --role admin)"
    [[ -n "$TOKEN" ]] || die "no token"
    start_service

    log "$backend: seeding $RUNNING open tickets through POST /api/v1/tickets (wrk -t1 -c$SEED_CONNECTIONS)"
    seed
    local tickets running
    tickets=$(db_query "SELECT count(*) FROM tickets")
    running=$(db_query "SELECT count(*) FROM ticket_clocks WHERE stopped_at IS NULL AND calendar = 'default'")
    echo "seeded: $tickets tickets, $running running clocks on default, in ${SEED_SECS}s" \
         "($(awk -v n="$tickets" -v s="$SEED_SECS" 'BEGIN{printf "%.0f", n/s}')/s), $SEED_FAILED failed requests"
    (( tickets >= RUNNING )) || die "only $tickets tickets"
    if [[ "$backend" == postgres && "$PG_ANALYZE" == 1 ]]; then
        # What autovacuum does once the tables have grown; without statistics PostgreSQL
        # plans the follower's queries for empty tables (see docs/performance.md).
        log "$backend: ANALYZE (PG_ANALYZE=1)"
        db_query "ANALYZE" >/dev/null
    fi

    log "$backend: baseline, creations without a calendar change (wrk -t$THREADS -c$CONNECTIONS -d$BASELINE_DURATION)"
    wait_for_quiet
    local base_busy="$BACKGROUND_BUSY"
    run_wrk_bg "$WORK_DIR/baseline.out" "$BASELINE_DURATION"
    wait "$WRK_PID" || die "baseline wrk failed"
    WRK_PID=""
    cat "$WORK_DIR/baseline.out"
    local base
    base=$(grep '^RESULT' "$WORK_DIR/baseline.out")

    # The closure: today in Rome through today + CLOSURE_DAYS.
    local first last after version_before
    first=$(TZ=Europe/Rome date +%F)
    last=$(date -d "$first + $CLOSURE_DAYS days" +%F)
    after=$(date -d "$last + 1 day" +%F)
    CLOSURE_END_UTC=$(utc_of_local_midnight "$after")
    version_before=$(api GET /calendars/default | sed '$d' | jq .version)

    log "$backend: closure $first..$last posted after ${SETTLE}s of creations (wrk -t$THREADS -c$CONNECTIONS$([[ $STOP_AT_APPLY == 1 ]] && echo ', stopped when applied' || echo " -d$DURATION"))"
    wait_for_quiet
    local busy="$BACKGROUND_BUSY" cap="$DURATION"
    [[ "$STOP_AT_APPLY" == 1 ]] && cap="$((SETTLE + APPLY_TIMEOUT + 5))s"
    local m0 s0 w0 m1 s1 w1
    run_wrk_bg "$WORK_DIR/apply.out" "$cap"
    sleep "$SETTLE"
    local t0 answer code pending_post version_after apply_secs="" trace="$WORK_DIR/pending.txt"
    local body pending t elapsed applied=0 polls=0 peak pause
    m0=($(machine_cpu)); s0=$(proc_cpu "$SERVICE_PID"); w0=$(proc_cpu "$WRK_PID")
    t0=$(now_ns)
    POST_UTC=$(date -u -d "@$((t0 / 1000000000))" '+%Y-%m-%d %H:%M:%S')
    answer=$(api POST /calendars/default/closures \
        "{\"first_day\": \"$first\", \"last_day\": \"$last\", \"reason\": \"bench: calendar-change.sh\"}")
    code="${answer##*$'\n'}"
    [[ "$code" == 201 ]] || { echo "$answer" >&2; die "POST closure answered $code"; }
    body=$(sed '$d' <<<"$answer")
    pending_post=$(jq .pending_clocks <<<"$body")
    version_after=$(jq .version <<<"$body")
    echo "POST answered 201 in $(secs_since "$t0")s: version $version_before -> $version_after, pending_clocks $pending_post"
    : >"$trace"
    local tb
    while :; do
        tb=$(now_ns)
        answer=$(api GET /calendars/default)
        t=$(now_ns)
        [[ "${answer##*$'\n'}" == 200 ]] || { echo "$answer" >&2; die "GET calendar answered ${answer##*$'\n'}"; }
        pending=$(sed '$d' <<<"$answer" | jq .pending_clocks)
        polls=$((polls + 1))
        elapsed=$(awk -v a="$t0" -v b="$t" 'BEGIN{printf "%.2f", (b-a)/1e9}')
        echo "$elapsed $pending $(((t - tb) / 1000000))" >>"$trace"
        if [[ "$pending" == 0 ]]; then applied=1; apply_secs="$elapsed"; break; fi
        if awk -v e="$elapsed" -v l="$APPLY_TIMEOUT" 'BEGIN{exit !(e > l)}'; then break; fi
        pause=$(awk -v p0="$pending_post" -v p="$pending" -v e="$elapsed" -v lo="$POLL_INTERVAL" -v hi="$POLL_MAX" \
            'BEGIN { d = lo; if (p0 > p && e > 0) d = p / ((p0 - p) / e) / 4;
                     if (d < lo) d = lo; if (d > hi) d = hi; printf "%.2f", d }')
        sleep "$pause"
    done
    m1=($(machine_cpu)); s1=$(proc_cpu "$SERVICE_PID"); w1=$(proc_cpu "$WRK_PID")
    [[ "$STOP_AT_APPLY" == 1 ]] && kill -INT "$WRK_PID"
    wait "$WRK_PID" || die "measured wrk failed"
    WRK_PID=""
    local window
    window=$(awk -v a="$t0" -v b="$(now_ns)" -v s="$SETTLE" 'BEGIN{printf "%.1f", (b-a)/1e9 + s}')
    cat "$WORK_DIR/apply.out"
    peak=$(awk -v p="$pending_post" '$2 > p {p = $2} END {print p}' "$trace")
    echo "-- pending_clocks over time (seconds since the POST, pending; every ~1 s of the $polls polls):"
    awk 'NR == 1 || $1 >= next_t || $2 == 0 { print $1, $2; next_t = int($1) + 1 }' "$trace" | paste -sd' ' | fold -s -w 110
    local get_ms
    get_ms=$(cut -d' ' -f3 "$trace" | sort -n | awk '
        { v[NR] = $1 } END { printf "median %d, max %d", v[int((NR + 1) / 2)], v[NR] }')
    echo "-- GET /calendars/default took (ms, curl included): $get_ms; the last pause was ${pause:-0}s"

    local cpu_line
    cpu_line=$(awk -v b0="${m0[0]}" -v t0="${m0[1]}" -v b1="${m1[0]}" -v t1="${m1[1]}" \
        -v n="$(nproc)" -v s0="$s0" -v s1="$s1" -v w0="$w0" -v w1="$w1" -v hz="$CLK_TCK" -v w="$elapsed" \
        'BEGIN{printf "cpu%%_during_apply(of %d00): service=%.0f wrk=%.0f machine=%.0f", n,
               (s1-s0)/hz/w*100, (w1-w0)/hz/w*100, (b1-b0)/(t1-t0)*100*n}')

    log "$backend: checks"
    if [[ "$applied" == 1 ]]; then
        check_applied
    else
        echo "CHECK $backend pending_clocks reached 0: FAILED (still $pending after ${APPLY_TIMEOUT}s)"
        CHECKS_OK=0
    fi
    (( pending_post >= RUNNING )) || { echo "CHECK $backend pending_clocks right after the POST >= $RUNNING: FAILED ($pending_post)"; CHECKS_OK=0; }

    # The follower logs its pass when the pass ends, a moment after the last batch.
    for _ in $(seq 1 50); do
        grep -q 'clocks follow their calendars' "$WORK_DIR/serve.err" && break
        [[ "$applied" == 1 ]] || break
        sleep 0.2
    done
    echo "-- the calendar follower's log (serve.err):"
    sed 's/\x1b\[[0-9;]*m//g' "$WORK_DIR/serve.err" >"$WORK_DIR/serve.log"
    grep -E 'clocks follow their calendars|calendar follower|cannot be brought' "$WORK_DIR/serve.log" || echo "(nothing)"
    local warnings
    warnings=$(grep -cE ' (WARN|ERROR) ' "$WORK_DIR/serve.log" || true)
    if (( warnings > 0 )); then
        echo "-- serve.err: $warnings WARN/ERROR lines, the first 10:"
        grep -E ' (WARN|ERROR) ' "$WORK_DIR/serve.log" | head -10
    fi

    local res p99 base_p99 verdict_apply verdict_p99
    res=$(grep '^RESULT' "$WORK_DIR/apply.out")
    p99=$(field p99_ms "$res"); base_p99=$(field p99_ms "$base")
    if [[ "$applied" == 1 ]] && awk -v a="$apply_secs" -v l="$APPLY_TARGET" 'BEGIN{exit !(a < l)}'; then
        verdict_apply=PASS; else verdict_apply=FAIL; fi
    if awk -v p="$p99" -v l="$P99_TARGET" 'BEGIN{exit !(p < l)}' \
        && [[ "$(field non2xx "$res")" == 0 && "$(field socket_errors "$res")" == 0 ]]; then
        verdict_p99=PASS; else verdict_p99=FAIL; fi
    SUMMARIES+=("$(printf 'SUMMARY %s clocks_affected=%s (peak pending %s) apply_s=%s (%s, target <%ss) clocks_per_s=%s (100,000 clocks at that rate: %ss) | during apply (wrk %ss incl. %ss before the POST): rps=%s p50_ms=%s p99_ms=%s max_ms=%s non2xx=%s socket_errors=%s (%s, target p99 <%s ms) | baseline %s: rps=%s p50_ms=%s p99_ms=%s max_ms=%s non2xx=%s | checks=%s | %s | %s polls (GET ms %s) | seeded %s tickets in %ss | busy_before=%s%%/%s%% (baseline/apply)' \
        "$backend" "$pending_post" "$peak" "${apply_secs:-timeout}" "$verdict_apply" "$APPLY_TARGET" \
        "$([[ $applied == 1 ]] && awk -v n="$pending_post" -v s="$apply_secs" 'BEGIN{printf "%.0f", n/s}' || echo -)" \
        "$([[ $applied == 1 ]] && awk -v n="$pending_post" -v s="$apply_secs" 'BEGIN{printf "%.1f", 100000/(n/s)}' || echo -)" \
        "$window" "$SETTLE" "$(field rps "$res")" "$(field p50_ms "$res")" "$p99" "$(field max_ms "$res")" \
        "$(field non2xx "$res")" "$(field socket_errors "$res")" "$verdict_p99" "$P99_TARGET" \
        "$BASELINE_DURATION" "$(field rps "$base")" "$(field p50_ms "$base")" "$base_p99" "$(field max_ms "$base")" \
        "$(field non2xx "$base")" "$([[ $CHECKS_OK == 1 ]] && echo ok || echo FAILED)" "$cpu_line" "$polls" "$get_ms" \
        "$tickets" "$SEED_SECS" "$base_busy" "$busy")")
    echo "${SUMMARIES[-1]}"

    if [[ -n "${KEEP_DB:-}" ]]; then
        stop_service
        echo "kept: DATABASE_URL=$DATABASE_URL (token $TOKEN)" >&2
        PG_DB="" WORK_DIR=""
    else
        cleanup
    fi
}

log "machine"; machine_summary >&2
echo "binary: $BIN ($(date -r "$BIN" '+%F %T'))" >&2
for b in "${backends[@]}"; do bench_backend "$b"; done
log "summary (RUNNING=$RUNNING, CONNECTIONS=$CONNECTIONS, RATE=$RATE, THREADS=$THREADS, SETTLE=${SETTLE}s, STOP_AT_APPLY=$STOP_AT_APPLY)"
printf '%s\n' "${SUMMARIES[@]}"
