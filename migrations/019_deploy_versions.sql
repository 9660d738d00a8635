-- The deployer keeps N previous stable versions per service (deployer.services.NAME.keepVersions,
-- default 5), newest first, so `cadence rollback web --to REV` can return to any of them and a
-- second rollback has somewhere to go. Each is a revision object as in `stable`.
alter table deploy_services add column previous_versions jsonb not null default '[]'::jsonb;

update deploy_services set previous_versions = jsonb_build_array(previous) where previous is not null;

alter table deploy_services drop column previous;
