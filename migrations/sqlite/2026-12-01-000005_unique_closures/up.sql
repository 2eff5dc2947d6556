-- The same closure posted twice was stored twice; keep the first of each and refuse more.
DELETE FROM calendar_closures
WHERE id NOT IN (
    SELECT MIN(id) FROM calendar_closures GROUP BY calendar, first_day, last_day
);
CREATE UNIQUE INDEX calendar_closures_days ON calendar_closures (calendar, first_day, last_day);
