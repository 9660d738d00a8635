-- Authorization (src/auth, issue 13): tokens gain the sources an `ingest` token may send for, an
-- expiry and when they were last used (written at most once a minute per token).
alter table deploy_tokens add column sources text[] not null default '{}';
alter table deploy_tokens add column expires_at timestamptz;
alter table deploy_tokens add column last_used_at timestamptz;

-- Sources bound to their door: how each raw event came in and which producers' transformers it
-- may feed. `door` is `webhook:<source>`, `/events`, `/cdevents` or `internal` (Cadence's own
-- watchers and deployer); `principal` the token name (or the webhook source) that vouched for it;
-- `vouched` the transformer names the door allows, `*` for every one. Rows stored before this
-- migration have no door and route as before.
alter table events add column door text;
alter table events add column principal text;
alter table events add column vouched text[];
