DROP INDEX monitor_outages_of_ticket;
DROP TABLE monitor_outages;
