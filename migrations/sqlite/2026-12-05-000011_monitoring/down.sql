DROP TABLE monitor_downtimes;
DROP TABLE check_results;
DROP TABLE monitor_state_changes;
DROP INDEX monitor_alerts_of_system;
DROP TABLE monitor_alerts;
DROP TABLE monitor_states;
DROP TABLE systems;
