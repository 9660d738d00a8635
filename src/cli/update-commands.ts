import { Command } from 'commander';
import { CadenceError } from '../problem/index.js';
import { call, print, withClientOptions, type ClientFlags } from './deploy-commands.js';
import { renderTable } from './table.js';

interface UpdateRow {
  id: number;
  service: string;
  tag: string;
  state: string;
  firstSeenAt: string;
  leadTimeSeconds: number | null;
}
interface FreshnessRow {
  service: string;
  current: string;
  newest: string;
  versionsBehind: number;
  update: string | null;
}

/** `cadence updates` (what is pending or in flight, and freshness) and `cadence approve ID`. */
export function updateCommands(): Command[] {
  const updates = withClientOptions(
    new Command('updates').description(
      'continuous updates in flight and how many versions behind each service is',
    ),
  )
    .option('--all', 'finished updates too')
    .action(async (flags: ClientFlags & { all?: boolean }) => {
      const listed = await call<{ updates: UpdateRow[]; services: FreshnessRow[] }>(
        flags,
        'GET',
        `/api/v1/updates${flags.all ? '?all=true' : ''}`,
      );
      print(flags, listed, () =>
        [
          renderTable(
            ['ID', 'SERVICE', 'TAG', 'STATE', 'SEEN', 'LEAD TIME'],
            listed.updates.map((u) => [
              String(u.id),
              u.service,
              u.tag,
              u.state,
              u.firstSeenAt,
              u.leadTimeSeconds === null ? '-' : `${Math.round(u.leadTimeSeconds)}s`,
            ]),
          ),
          '',
          renderTable(
            ['SERVICE', 'CURRENT', 'NEWEST', 'BEHIND', 'NEXT'],
            listed.services.map((s) => [
              s.service,
              s.current,
              s.newest,
              String(s.versionsBehind),
              s.update ?? '-',
            ]),
          ),
        ].join('\n'),
      );
    });
  const approve = withClientOptions(
    new Command('approve')
      .description('approve a pending update: its canary starts')
      .argument('<id>', 'the update id (cadence updates)'),
  ).action(async (id: string, flags: ClientFlags) => {
    if (!/^[0-9]{1,15}$/.test(id)) {
      throw new CadenceError('invalid-input', { field: 'id', detail: `${id} is not an update id` });
    }
    const approved = await call<UpdateRow & { approvedBy: string | null }>(
      flags,
      'POST',
      `/api/v1/updates/${id}/approve`,
    );
    print(
      flags,
      approved,
      () =>
        `update ${approved.id}: ${approved.service} ${approved.tag} ${approved.state} (approved by ${approved.approvedBy ?? '-'})`,
    );
  });
  return [updates, approve];
}
