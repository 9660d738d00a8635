-- `cadence sql` runs users' queries as this role (SET LOCAL ROLE inside a read-only transaction):
-- NOLOGIN, SELECT on the git tables alone, so no other table (deploy_tokens, events…) and no
-- superuser function (pg_read_file, lo_import…) is reachable whatever the query says.
--
-- Roles are per server, not per database: several Cadence databases on one server share it, and
-- may create it at the same moment (hence the duplicate handlers). A migrating user that may not
-- create roles gets a notice, and `cadence sql` says how to set the role up (docs/git-cadence.md).
do $$
begin
  if not exists (select from pg_roles where rolname = 'cadence_git_reader') then
    begin
      create role cadence_git_reader nologin;
    exception
      when duplicate_object or unique_violation then null;
      when insufficient_privilege then
        raise notice 'cannot create role cadence_git_reader: cadence sql needs it (see docs/git-cadence.md)';
    end;
  end if;
  if exists (select from pg_roles where rolname = 'cadence_git_reader') then
    grant select on git_repositories, commits, stats to cadence_git_reader;
    -- The migrating user must be a member to SET ROLE to it (a superuser always may).
    if not (select rolsuper from pg_roles where rolname = current_user) then
      begin
        grant cadence_git_reader to current_user;
      exception
        when unique_violation or insufficient_privilege or invalid_grant_operation then
          raise notice 'cannot grant cadence_git_reader to %: cadence sql needs it', current_user;
      end;
    end if;
  end if;
end
$$;
