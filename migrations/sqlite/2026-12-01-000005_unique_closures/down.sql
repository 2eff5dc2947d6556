DROP INDEX calendar_closures_days;
