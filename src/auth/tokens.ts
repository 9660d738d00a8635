import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { CadenceError } from '../problem/index.js';
import type { Queryable } from '../store/index.js';
import { ACTIONS, type Action, type Principal } from './actions.js';
import { lastUsedIsStale } from './expiry.js';

export const tokenRequestSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, . _ - (at most 64)'),
    services: z.array(z.string().min(1)).min(1),
    actions: z.array(z.enum(ACTIONS)).min(1),
    /** The producers an `ingest` token may send for (transformer names, or `*`). */
    sources: z.array(z.string().min(1)).default([]),
    /** When the token stops working; never when absent. */
    expiresAt: z.date().optional(),
  })
  .refine((token) => !token.actions.includes('ingest') || token.sources.length > 0, {
    path: ['sources'],
    message: "an ingest token needs the sources it may send for (names, or '*')",
  });

/** A token as `cadence token list` and `GET /api/v1/tokens` show it: never its secret. */
export interface TokenSummary {
  name: string;
  services: string[];
  actions: Action[];
  sources: string[];
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * Mints a token and stores only the SHA-256 of its secret; the secret is returned once.
 * Creating a token with an existing name replaces it (a rotation: the old secret stops working).
 *
 * @example const { secret } = await createToken(store, { name: 'ci', services: ['web'], actions: ['deploy'] })
 */
export async function createToken(
  db: Queryable,
  request: z.input<typeof tokenRequestSchema>,
): Promise<{ name: string; secret: string }> {
  const parsed = tokenRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CadenceError('invalid-input', {
      field: String(issue.path[0] ?? 'token'),
      detail: `token ${String(issue.path[0] ?? '')}: ${issue.message}`,
    });
  }
  const { name, services, actions, sources, expiresAt } = parsed.data;
  const secret = `cdt_${randomBytes(32).toString('base64url')}`;
  await db.query(
    `insert into deploy_tokens (name, secret_sha256, services, actions, sources, expires_at)
     values ($1, $2, $3, $4, $5, $6)
     on conflict (name) do update set secret_sha256 = excluded.secret_sha256,
       services = excluded.services, actions = excluded.actions, sources = excluded.sources,
       expires_at = excluded.expires_at, created_at = now(), last_used_at = null`,
    [name, sha256(secret), services, [...new Set(actions)], sources, expiresAt ?? null],
  );
  return { name, secret };
}

export async function countTokens(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    'select count(*)::int as count from deploy_tokens',
  );
  return rows[0]?.count ?? 0;
}

interface TokenRow {
  name: string;
  services: string[];
  actions: Action[];
  sources: string[];
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
}

const toSummary = (row: TokenRow): TokenSummary => ({
  name: row.name,
  services: row.services,
  actions: row.actions,
  sources: row.sources,
  createdAt: new Date(row.created_at),
  expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
  lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
});

/** Every token, by name: scope, expiry and when it was last used (to the minute). */
export async function listTokens(db: Queryable): Promise<TokenSummary[]> {
  const { rows } = await db.query<TokenRow>(
    `select name, services, actions, sources, created_at, expires_at, last_used_at
     from deploy_tokens order by name`,
  );
  return rows.map(toSummary);
}

/** Deletes a token: its secret stops working at once. `not-found` when there is none. */
export async function revokeToken(db: Queryable, name: string): Promise<void> {
  const { rows } = await db.query('delete from deploy_tokens where name = $1 returning name', [
    name,
  ]);
  if (rows.length === 0) {
    throw new CadenceError('not-found', { field: 'name', detail: `no token named ${name}` });
  }
}

/**
 * The credentials of a request: HTTP Basic `NAME:SECRET` (the deployer's `http://ci:SECRET@host`),
 * `Bearer NAME:SECRET` or `Bearer SECRET`.
 */
export function parseCredentials(
  header: string | undefined,
): { name?: string; secret: string } | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space);
  const value = header.slice(space + 1).trim();
  let pair: string;
  if (/^bearer$/i.test(scheme)) {
    if (!value) return undefined;
    pair = value;
  } else if (/^basic$/i.test(scheme)) {
    pair = Buffer.from(value, 'base64').toString('utf8');
    if (!pair.includes(':')) return undefined;
  } else {
    return undefined;
  }
  const colon = pair.indexOf(':');
  if (colon < 0) return { secret: pair };
  return { name: pair.slice(0, colon), secret: pair.slice(colon + 1) };
}

const unauthorized = (detail: string) =>
  new CadenceError('unauthorized', { field: 'authorization', detail });

/**
 * The principal an `Authorization` header names; `unauthorized` without one, with a bad or an
 * expired one. A name given with the secret must be the token's own name. Records when the token
 * was last used, at most once a minute (a read-mostly path stays read-mostly).
 */
export async function authenticate(
  db: Queryable,
  authorization: string | undefined,
  now: Date = new Date(),
): Promise<Principal> {
  const given = parseCredentials(authorization);
  if (!given) {
    throw unauthorized(
      'a token is required (Authorization: Bearer NAME:SECRET, or HTTP Basic NAME:SECRET)',
    );
  }
  const digest = sha256(given.secret);
  const { rows } = await db.query<TokenRow & { secret_sha256: string }>(
    `select name, secret_sha256, services, actions, sources, created_at, expires_at, last_used_at
     from deploy_tokens where secret_sha256 = $1`,
    [digest],
  );
  const row = rows[0];
  const matches =
    row !== undefined &&
    timingSafeEqual(Buffer.from(row.secret_sha256), Buffer.from(digest)) &&
    (given.name === undefined || given.name === row.name);
  if (!matches) throw unauthorized('the token is not valid');
  const token = toSummary(row);
  if (token.expiresAt !== null && token.expiresAt.getTime() <= now.getTime()) {
    throw unauthorized(`token ${token.name} expired at ${token.expiresAt.toISOString()}`);
  }
  if (lastUsedIsStale(token.lastUsedAt, now)) {
    await db.query('update deploy_tokens set last_used_at = $2 where name = $1', [token.name, now]);
  }
  return {
    name: token.name,
    services: token.services,
    actions: token.actions,
    sources: token.sources,
  };
}
