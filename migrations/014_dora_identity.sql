-- One deployment per rollout, whichever sources report it (src/dora/deployment-identity.ts).

-- A report seen already complete by a source just starting (the ApiServerSource's initial `add`):
-- recorded, and the revision later deployments deliver from, but not counted as a deployment.
alter table deployments add column baseline boolean not null default false;
-- Who reported it (customData.cadence.reporter, else the CDEvent's source): one rollout's
-- reports come from different reporters; one reporter's two reports are two deployments.
alter table deployments add column reporter text;
-- Existing rows: the source of the CDEvent they came from.
update deployments d set reporter = c.body -> 'context' ->> 'source'
from cdevents c where c.seq = d.cdevent_seq;

-- The deployment as the rules identified it: the first report's row, with the revision and
-- repository any report of the same rollout gave, the other reports as evidence, and notes on
-- what the rules inferred (a repository found by the service's name).
alter table dora_deliveries add column revision text;
alter table dora_deliveries add column repository text;
alter table dora_deliveries add column evidence int8[] not null default '{}';
alter table dora_deliveries add column notes text[] not null default '{}';

-- Where an incident's environment came from: 'label' (the producer said), 'service' (the only
-- environment its service deploys to), or 'default' (dora.environment). The last two are
-- re-resolved on refresh, as deployments arrive.
alter table incidents add column environment_from text not null default 'label'
  check (environment_from in ('label', 'service', 'default'));
