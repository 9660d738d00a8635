-- Projection proportional to the change (src/dora/delivery-rows.ts): a stale stream remembers the
-- earliest deployment time its new facts can affect, and its rewrite keeps the rows before the
-- cut it derives from there (src/dora/stream-cut.ts). Null: from the beginning (rules changed,
-- a repository's history moved, an incident changed streams, or marks made before this column).
-- (The suffix's rows are found through the (environment, service) indexes: an index with
-- deployed_at added made the planner read one service's window through the environment's time
-- index while the table's statistics were still those of an empty table.)
alter table dora_stale_streams add column affected_from timestamptz;
