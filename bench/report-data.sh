# The report data of bench/seed-million.sh (sourced, not run): SQL that seeds, over the
# tickets already inserted in the same transaction, what GET /reports/sla and
# GET /reports/malfunctions read. Plain SQL for both backends; the few differences (time
# arithmetic, hex, GREATEST) come from the helpers below. Needs $backend, $USER_ID, $TICKETS.
#
# What it seeds, deterministically from the ticket's number n (so every run is the same):
# - every ticket: an SLA.6 and an SLA.7 clock. Tickets that are new or open have both
#   running (outcome NULL, deadline in 2016, so the report counts them as breached); the
#   others are stopped, SLA.6 88 % met (elapsed 1 min-1 h, else 1-8 h), SLA.7 93 % met
#   (10 min-6 h, else 6-30 h). The deadlines of these business-hours clocks are
#   reported_at + target in wall time, and stopped_at is reported_at + elapsed (an
#   approximation: the reports read only outcome and elapsed_seconds; GET /tickets/{id}
#   recomputes the time with the real calendar and may differ). applies_from is the clock's
#   start, as the service stores it for SLAs that always apply.
# - malfunctions: the tickets with n % 43 = 1 that have an agency and are resolved or closed
#   (2.1 %: 20,917 of 1M, spread over all agencies and channels): the ticket's malfunction
#   details, a ticket_affected_agencies row (its agency), one interruption (starting 0-10 min
#   before the report, lasting 10 min-4 h), the history created, interruption_start,
#   take_charge, start_intervention (5-100 min later), notify_agency (5-45 min after that:
#   SLA.9 met 62 %), notify_users (20-90 min after it, when the interruption lasted more than
#   30 min: SLA.10 met 57 %), interruption_end, escalate + take_charge at level 2, and
#   resolve or close_not_in_scope; and the clocks SLA.9, SLA.10 (interruptions > 30 min) and
#   SLA.8 (phone reports), exact (24x7) and consistent with that history.
# - the malfunction reports of 2016's four quarters, delivered (outbox `sent`) to every
#   agency, so that the SLA.11 row has something to count.
# Crossings are flagged as recorded (risk_recorded/breach_recorded), as the clock watcher
# would have done in 2016; otherwise the service's watcher would start writing ~210,000
# sla_breached events during the measurements. Not seeded: the sla_at_risk/sla_breached and
# reply events, and any history of tickets that are not malfunctions.

# at ALIAS SECONDS: the instant SECONDS after the report of the row ALIAS (SQLite: from its
# epoch column `e`, formatted exactly as the tickets' reported_at).
at() {
    if [[ "$backend" == sqlite ]]; then
        echo "strftime('%Y-%m-%d %H:%M:%f', $1.e + ($2), 'unixepoch')"
    else
        echo "($1.reported_at + ($2) * INTERVAL '1 second')"
    fi
}
hex12() {
    if [[ "$backend" == sqlite ]]; then echo "printf('%012x', $1)"; else echo "lpad(to_hex($1), 12, '0')"; fi
}
ts() { # ts 'YYYY-MM-DD HH:MM:SS': a TIMESTAMP literal
    if [[ "$backend" == sqlite ]]; then echo "'$1'"; else echo "TIMESTAMP '$1'"; fi
}

# Elapsed seconds of the SLA.6 and SLA.7 clocks of ticket n (take_charge / reply).
EL6="CASE WHEN (n * 7907) % 1000 < 880 THEN 60 + (n * 131) % 3540 ELSE 3601 + (n * 977) % 25200 END"
EL7="CASE WHEN (n * 6577) % 1000 < 930 THEN 600 + (n * 211) % 21000 ELSE 21601 + (n * 389) % 86400 END"
# Which seeded tickets are malfunctions (used in the tickets INSERT too; r: the status pick).
MALFUNCTION_EXPR="(n % 43 = 1 AND n % 10 <> 0 AND r < 4785)"

report_data_sql() {
    local greatest=greatest epoch="" me="" te=""
    if [[ "$backend" == sqlite ]]; then
        greatest=max me=", m.e" te=", t.e"
        # Each ticket's reported_at as the seed computed it (same float, same text).
        epoch=", 1451602800 + (CAST(substr(number, 6) AS BIGINT) - 1) * (31622400.0 / $TICKETS) AS e"
    fi
    local service="CASE m.n % 6 WHEN 0 THEN 'Portale dei servizi online' WHEN 1 THEN 'PagoPA'
        WHEN 2 THEN 'Anagrafe online' WHEN 3 THEN 'SUAP' WHEN 4 THEN 'Protocollo informatico'
        ELSE 'Posta elettronica certificata' END"
    local cols="ticket_id, code, target_seconds, calendar, started_at, applies_from, deadline,
        at_risk_at, stopped_at, segment_started_at, consumed_seconds, paused, risk_recorded,
        breach_recorded, reported_at, agency_id, outcome, elapsed_seconds"
    # SLA.9 and SLA.10 measure one interruption (each malfunction here has one).
    local icols="$cols, interruption, interruption_started_at"
    cat <<SQL
-- Report data (bench/report-data.sh).
CREATE TEMP TABLE m AS
SELECT y.*, y.lastoff + 1800 + y.n % 3000 AS f FROM (
  SELECT x.*, $greatest(x.iend, x.na, COALESCE(x.nu, 0), x.e7) AS lastoff FROM (
    SELECT b.*, b.s + b.l AS iend, b.i + 300 + (b.n * 17) % 2401 AS na,
           CASE WHEN b.l > 1800 THEN b.i + 1200 + (b.n * 13) % 4201 END AS nu
    FROM (
      SELECT a.*, a.tc + 300 + (a.n * 31) % 5701 AS i FROM (
        SELECT t.*, -(n % 600) AS s, 600 + (n * 7907) % 13801 AS l, $EL6 AS tc, $EL7 AS e7
        FROM (SELECT id, reported_at, agency_id, status, level, channel,
                     CAST(substr(number, 6) AS BIGINT) AS n$epoch
              FROM tickets WHERE malfunction) t
      ) a
    ) b
  ) x
) y;

INSERT INTO ticket_affected_agencies (ticket_id, agency_id) SELECT id, agency_id FROM m;
INSERT INTO ticket_interruptions (ticket_id, started_at, ended_at)
SELECT id, $(at m m.s), $(at m m.iend) FROM m;
UPDATE tickets SET
    subject = ($service) || ' non disponibile',
    affected_services = '["' || ($service) || '"]',
    affected_agencies = '["' || m.agency_id || '"]',
    cause = CASE (m.n / 7) % 4 WHEN 0 THEN 'Saturazione dello spazio disco'
        WHEN 1 THEN 'Certificato scaduto' WHEN 2 THEN 'Guasto di rete del fornitore'
        ELSE 'Aggiornamento non riuscito' END,
    actions_taken = 'Ripristino del servizio e verifica del monitoraggio',
    interruption_started_at = $(at m m.s),
    last_event_at = $(at m m.f), updated_at = $(at m m.f),
    version = 7 + CASE WHEN m.nu IS NULL THEN 0 ELSE 1 END + CASE WHEN m.level = 2 THEN 2 ELSE 0 END
FROM m WHERE tickets.id = m.id;

INSERT INTO ticket_events (id, ticket_id, sequence, type, at, recorded_at, actor_id,
    status_after, level_after, assignee_after, details)
SELECT '00000000-0000-7000-9000-' || $(hex12 "ev.n * 16 + ev.seq"), ev.id, ev.seq, ev.type,
       $(at ev ev.off), $(at ev ev.rec), '$USER_ID', ev.st, ev.lv, ev.asg, ev.details
FROM (
  SELECT u.*, ROW_NUMBER() OVER (PARTITION BY u.id ORDER BY u.k, u.off, u.ord) AS seq FROM (
    SELECT m.id, m.n, m.reported_at$me, 0 AS k, 0 AS off, 0 AS ord,
           'created' AS type, 'new' AS st, 1 AS lv, NULL AS asg, '{}' AS details, 0 AS rec FROM m
    UNION ALL
    SELECT m.id, m.n, m.reported_at$me, 1, m.s, 1,
           'interruption_start', 'new', 1, NULL, '{"service":"' || ($service) || '"}', 0 FROM m
    UNION ALL
    SELECT m.id, m.n, m.reported_at$me, 2, m.tc, 2,
           'take_charge', 'open', 1, '$USER_ID', '{}', m.tc FROM m
    UNION ALL
    SELECT m.id, m.n, m.reported_at$me, 2, m.i, 3,
           'start_intervention', 'open', 1, '$USER_ID', '{}', m.i FROM m
    UNION ALL
    SELECT m.id, m.n, m.reported_at$me, 2, m.na, 4,
           'notify_agency', 'open', 1, '$USER_ID',
           '{"message":"Il servizio ' || ($service) || ' è interrotto; stiamo intervenendo.","recipients":'
               || g.contacts || '}', m.na
    FROM m JOIN agencies g ON g.id = m.agency_id
    UNION ALL
    SELECT m.id, m.n, m.reported_at$me, 2, m.nu, 5,
           'notify_users', 'open', 1, '$USER_ID',
           '{"message":"Il servizio ' || ($service) || ' è temporaneamente non disponibile.","recipients":["avvisi@centro.example"]}',
           m.nu
    FROM m WHERE m.nu IS NOT NULL
    UNION ALL
    SELECT m.id, m.n, m.reported_at$me, 2, m.iend, 6,
           'interruption_end', CASE WHEN m.iend >= m.tc THEN 'open' ELSE 'new' END, 1,
           CASE WHEN m.iend >= m.tc THEN '$USER_ID' END, '{}', m.iend FROM m
    UNION ALL
    SELECT m.id, m.n, m.reported_at$me, 2, m.lastoff + 600, 7,
           'escalate', 'new', 2, NULL, '{"reason":"Serve l''intervento del secondo livello"}',
           m.lastoff + 600 FROM m WHERE m.level = 2
    UNION ALL
    SELECT m.id, m.n, m.reported_at$me, 2, m.lastoff + 1200, 8,
           'take_charge', 'open', 2, '$USER_ID', '{}', m.lastoff + 1200 FROM m WHERE m.level = 2
    UNION ALL
    SELECT m.id, m.n, m.reported_at$me, 2, m.f, 9,
           CASE m.status WHEN 'resolved' THEN 'resolve' ELSE 'close_not_in_scope' END,
           m.status, m.level, '$USER_ID',
           CASE m.status WHEN 'resolved' THEN '{"resolution":"Problema risolto."}'
               ELSE '{"reason":"La richiesta riguarda un servizio non gestito dal centro."}' END,
           m.f FROM m
  ) u
) ev;

-- SLA.9 (start_intervention -> notify_agency, 30 min), SLA.10 (-> notify_users, 60 min, from
-- the interruption's 30th minute) and SLA.8 (phone report -> start_intervention, 2 h): 24x7.
INSERT INTO ticket_clocks ($icols)
SELECT id, 'SLA.9', 1800, '24x7', $(at m m.i), $(at m m.i), $(at m "m.i + 1800"),
       $(at m "m.i + 1350"), $(at m m.na), $(at m m.i), 0, false, m.na - m.i > 1350,
       m.na - m.i > 1800, reported_at, agency_id,
       CASE WHEN m.na - m.i <= 1800 THEN 'met' ELSE 'breached' END, m.na - m.i,
       1, $(at m m.s)
FROM m
UNION ALL
SELECT id, 'SLA.10', 3600, '24x7', $(at m m.i), $(at m "$greatest(m.s + 1800, m.i)"),
       $(at m "m.i + 3600"), $(at m "m.i + 2700"), $(at m m.nu), $(at m m.i), 0, false,
       m.nu - m.i > 2700, m.nu - m.i > 3600, reported_at, agency_id,
       CASE WHEN m.nu - m.i <= 3600 THEN 'met' ELSE 'breached' END, m.nu - m.i,
       1, $(at m m.s)
FROM m WHERE m.nu IS NOT NULL;
INSERT INTO ticket_clocks ($cols)
SELECT id, 'SLA.8', 7200, '24x7', reported_at, reported_at, $(at m 7200), $(at m 5400),
       $(at m m.i), reported_at, 0, false, m.i > 5400, m.i > 7200, reported_at, agency_id,
       CASE WHEN m.i <= 7200 THEN 'met' ELSE 'breached' END, m.i
FROM m WHERE m.channel = 'phone';

-- SLA.6 and SLA.7 on every ticket (business hours; see above).
INSERT INTO ticket_clocks ($cols)
SELECT c.id, c.code, c.target, 'default', c.reported_at, c.reported_at, $(at c c.target),
       $(at c c.risk), CASE WHEN c.running THEN NULL ELSE $(at c c.el) END, c.reported_at, 0,
       false, c.running OR c.el > c.risk, c.running OR c.el > c.target, c.reported_at,
       c.agency_id,
       CASE WHEN c.running THEN NULL WHEN c.el <= c.target THEN 'met' ELSE 'breached' END,
       CASE WHEN c.running THEN NULL ELSE c.el END
FROM (
  SELECT t.id, t.reported_at, t.agency_id, t.running, t.n$te,
         k.code, k.target, k.risk,
         CASE k.code WHEN 'SLA.6' THEN $EL6 ELSE $EL7 END AS el
  FROM (SELECT id, reported_at, agency_id, status IN ('new', 'open') AS running,
               CAST(substr(number, 6) AS BIGINT) AS n$epoch
        FROM tickets) t
  CROSS JOIN (SELECT 'SLA.6' AS code, 3600 AS target, 2700 AS risk
              UNION ALL SELECT 'SLA.7', 21600, 16200) k
) c;
-- Tickets with running clocks: their nearest deadline (SLA.6's) for the agents' queue.
UPDATE tickets SET next_deadline = (
    SELECT min(deadline) FROM ticket_clocks
    WHERE ticket_clocks.ticket_id = tickets.id AND stopped_at IS NULL)
WHERE status IN ('new', 'open');

-- The malfunction reports of 2016's quarters, delivered to every agency the day after.
CREATE TEMP TABLE q AS
SELECT 1 AS q, $(ts '2015-12-31 23:00:00') AS pf, $(ts '2016-03-31 22:00:00') AS pt, $(ts '2016-04-01 05:00:00') AS sent
UNION ALL SELECT 2, $(ts '2016-03-31 22:00:00'), $(ts '2016-06-30 22:00:00'), $(ts '2016-07-01 05:00:00')
UNION ALL SELECT 3, $(ts '2016-06-30 22:00:00'), $(ts '2016-09-30 22:00:00'), $(ts '2016-10-01 05:00:00')
UNION ALL SELECT 4, $(ts '2016-09-30 22:00:00'), $(ts '2016-12-31 23:00:00'), $(ts '2017-01-01 06:00:00');
INSERT INTO outbox (id, message_id, kind, ticket_id, event_id, agency_id, sender, recipients,
    subject, message, status, attempts, next_attempt_at, claimed_by, claimed_until, last_error,
    created_at, updated_at, sent_at)
SELECT '00000000-0000-7000-b000-' || $(hex12 "q.q * 1000 + CAST(substr(g.code, 3) AS BIGINT)"),
       '<report-2016-q' || q.q || '-' || g.code || '@localhost>', 'malfunction_report', NULL, NULL,
       g.id, 'Helpdesk <helpdesk@localhost>', g.contacts,
       'Report malfunzionamenti 2016-Q' || q.q || ' - ' || g.name,
       '(seeded: the message is not kept)',
       'sent', 1, q.sent, NULL, NULL, NULL, q.sent, q.sent, q.sent
FROM q CROSS JOIN agencies g;
INSERT INTO report_deliveries (id, agency_id, period, period_from, period_to, edition, trigger,
    requested_by, interruptions, outbox_id, created_at)
SELECT '00000000-0000-7000-c000-' || $(hex12 "q.q * 1000 + CAST(substr(g.code, 3) AS BIGINT)"),
       g.id, '2016-Q' || q.q, q.pf, q.pt, 1, 'schedule', NULL,
       (SELECT count(*) FROM ticket_interruptions i
        JOIN ticket_affected_agencies a ON a.ticket_id = i.ticket_id
        WHERE a.agency_id = g.id AND i.started_at < q.pt AND (i.ended_at IS NULL OR i.ended_at > q.pf)),
       '00000000-0000-7000-b000-' || $(hex12 "q.q * 1000 + CAST(substr(g.code, 3) AS BIGINT)"),
       q.sent
FROM q CROSS JOIN agencies g;
DROP TABLE q;
DROP TABLE m;
SQL
}
