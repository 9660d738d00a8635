/** How the dashboard writes numbers: one place, so every page (and the tests) agree. */

const HOUR = 3600;
const DAY = 24 * HOUR;

/** Seconds as minutes under an hour, hours under two days, days beyond. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < HOUR) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * DAY) return `${(seconds / HOUR).toFixed(1)} h`;
  return `${(seconds / DAY).toFixed(1)} d`;
}

/**
 * A rollout's duration as `cadence rollouts` prints it (src/cli/rollouts-command.ts): seconds
 * with one decimal under two minutes (`1.2s`), minutes with one decimal beyond (`3.5m`).
 * Rollouts take seconds; "0 min" said nothing.
 */
export function formatRolloutDuration(ms: number | null): string {
  if (ms === null) return '–';
  const seconds = ms / 1000;
  return seconds < 120 ? `${Math.round(seconds * 10) / 10}s` : `${Math.round(seconds / 6) / 10}m`;
}

/** Days (the git cadence report's unit) with up to two decimals. */
export function formatDays(days: number | null): string {
  if (days === null) return '–';
  return `${Number(days.toFixed(2))} d`;
}

export function formatPercent(rate: number | null): string {
  return rate === null ? '–' : `${Math.round(rate * 100)} %`;
}

export function formatPerDay(value: number): string {
  return value.toFixed(2);
}

/** `2026-03-04 14:00` (UTC, as every bucket and window in Cadence). */
export function formatTime(iso: string | null): string {
  if (iso === null) return '–';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

export function shortSha(sha: string | null): string {
  return sha === null ? '–' : sha.slice(0, 8);
}
