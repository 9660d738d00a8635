-- Projection proportional to the change (src/dora/delivery-rows.ts): a stale stream remembers the
-- earliest deployment time its new facts can affect, and its rewrite keeps the rows before the
-- cut it derives from there (src/dora/stream-cut.ts). Null: from the beginning (rules changed,
-- a repository's history moved, an incident changed streams, or marks made before this column).
alter table dora_stale_streams add column affected_from timestamptz;

-- A suffix rewrite deletes a stream's rows from a time on: one index range instead of every row
-- of the stream filtered.
drop index dora_deliveries_stream;
create index dora_deliveries_stream on dora_deliveries (environment, service, deployed_at);
drop index dora_delivered_commits_stream;
create index dora_delivered_commits_stream
  on dora_delivered_commits (environment, service, deployed_at);
