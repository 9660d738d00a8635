import { CadenceError } from '../problem/index.js';

/**
 * What a token may do. `read` covers every GET of data (and the deployer's list, show, tags and
 * version); `ingest` sending events; `deploy`, `canary`, `promote`, `rollback` the deployer's
 * operations (`canary` also starts an analysis and approves an update); `admin` the tokens.
 */
export const ACTIONS = [
  'read',
  'ingest',
  'deploy',
  'canary',
  'promote',
  'rollback',
  'admin',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Who is calling and what they may do. `*` in `services` or `sources` means every one. */
export interface Principal {
  name: string;
  services: readonly string[];
  actions: readonly Action[];
  /** For `ingest`: the producers (transformer names) it may send events for. */
  sources: readonly string[];
}

/** `--insecure-dev`: everything, for a developer machine only. */
export const INSECURE_DEV_PRINCIPAL: Principal = {
  name: 'insecure-dev',
  services: ['*'],
  actions: ACTIONS,
  sources: ['*'],
};

const covers = (list: readonly string[], item: string) => list.includes('*') || list.includes(item);

/** Whether the principal may do `action`, on `service` when one is named. */
export function mayAct(principal: Principal, action: Action, service?: string): boolean {
  return (
    principal.actions.includes(action) &&
    (service === undefined || covers(principal.services, service))
  );
}

/** Whether the principal may send events that feed the `source` transformer. */
export function maySendFor(principal: Principal, source: string): boolean {
  return principal.actions.includes('ingest') && covers(principal.sources, source);
}

/** `forbidden` unless the principal may do `action` (on `service`, when named). */
export function authorize(principal: Principal, action: Action, service?: string): void {
  if (!mayAct(principal, action, service)) {
    throw new CadenceError('forbidden', {
      field: 'authorization',
      detail:
        service === undefined
          ? `token ${principal.name} may not ${action}`
          : `token ${principal.name} may not ${action} ${service}`,
    });
  }
}
