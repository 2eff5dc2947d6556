DROP INDEX ticket_clocks_risk_scan;
CREATE INDEX ticket_clocks_risk_scan ON ticket_clocks (risk_recorded, at_risk_at);
DROP INDEX ticket_clocks_breach_scan;
CREATE INDEX ticket_clocks_breach_scan ON ticket_clocks (breach_recorded, deadline);
DROP INDEX ticket_clocks_open_agency_report;
DROP INDEX ticket_clocks_open_report;
