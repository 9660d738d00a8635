-- Continuous updates whose canary cannot start (the tag's image missing, a manifest the cluster
-- refuses) are retried with backoff a bounded number of times, then end `failed`: attempts
-- counts the tries, retry_at is when the next may start.
alter table updates add column attempts integer not null default 0;
alter table updates add column retry_at timestamptz;
