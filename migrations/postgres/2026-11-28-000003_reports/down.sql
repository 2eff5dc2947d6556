DROP TABLE report_deliveries;
DROP TABLE ticket_interruptions;
DROP INDEX ticket_clocks_agency_report;
DROP INDEX ticket_clocks_report;
ALTER TABLE ticket_clocks DROP COLUMN elapsed_seconds;
ALTER TABLE ticket_clocks DROP COLUMN outcome;
ALTER TABLE ticket_clocks DROP COLUMN agency_id;
ALTER TABLE ticket_clocks DROP COLUMN reported_at;
