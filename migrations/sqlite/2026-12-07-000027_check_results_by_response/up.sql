-- On PostgreSQL this migration adds the index check_results (system, response_ms, at), which
-- SLA.3's statistic walks from the top. SQLite does without it: its report reads a year of a
-- system's check results in about 60 ms anyway, while keeping that index ordered by response
-- time slowed the ingest of check results (synchronous = full) from about 45,000/s to
-- 21,000/s, at the edge of its 20,000/s target (docs/performance.md). Nothing to do here.
SELECT 1;
