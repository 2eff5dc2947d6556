-- Clocks that have not stopped (outcome NULL) are a sliver of the table: the compliance
-- report's running clocks and the clock watcher's scans read them through partial indexes
-- instead of walking every stopped clock in history.
CREATE INDEX ticket_clocks_open_report ON ticket_clocks
    (code, reported_at, applies_from, deadline) WHERE outcome IS NULL;
CREATE INDEX ticket_clocks_open_agency_report ON ticket_clocks
    (agency_id, code, reported_at, applies_from, deadline) WHERE outcome IS NULL;
-- A met clock never crosses: the watcher looks at open and breached ones only.
DROP INDEX ticket_clocks_breach_scan;
CREATE INDEX ticket_clocks_breach_scan ON ticket_clocks (breach_recorded, deadline)
    WHERE outcome IS NULL OR outcome = 'breached';
DROP INDEX ticket_clocks_risk_scan;
CREATE INDEX ticket_clocks_risk_scan ON ticket_clocks (risk_recorded, at_risk_at)
    WHERE outcome IS NULL;
