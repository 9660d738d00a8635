-- Freshness: projection runs in the background (src/dora/background-projector.ts) and a metrics
-- read only reads, so a read says how fresh it is (src/dora/freshness.ts). Each piece of pending
-- work remembers since when the oldest event it stands for was received: `asOf` is the earliest
-- of those, and everything received before it is counted.
alter table dora_stale_streams add column since timestamptz not null default now();
alter table dora_stale_repositories add column since timestamptz not null default now();
