-- The worker's claim binds `state` as a parameter, and a partial index (WHERE state =
-- 'pending') is used only when the planner reads that value: SQLite built with the query
-- planner stability guarantee never does, nor does a generic plan on PostgreSQL, so each claim
-- scanned every delivery ever made. An index led by the state serves the bound query.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at, id);
