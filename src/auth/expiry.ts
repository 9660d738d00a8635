import { CadenceError } from '../problem/index.js';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * A token lifetime as written on the command line (`90m`, `12h`, `30d`, `8w`) in milliseconds.
 *
 * @example parseLifetime('30d') // 2_592_000_000
 */
export function parseLifetime(text: string): number {
  const match = /^([1-9][0-9]{0,5})([mhdw])$/.exec(text.trim());
  if (!match) {
    throw new CadenceError('invalid-input', {
      field: 'expires',
      detail: `expires: ${JSON.stringify(text)} is not a lifetime like 90m, 12h, 30d or 8w`,
    });
  }
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** How long a token's `last used` may lag: written at most once a minute per token. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** Whether a token last used at `lastUsedAt` should have the time written again at `now`. */
export function lastUsedIsStale(lastUsedAt: Date | null, now: Date): boolean {
  return lastUsedAt === null || now.getTime() - lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS;
}
