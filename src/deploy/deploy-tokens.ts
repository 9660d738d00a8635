import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { CadenceError } from '../problem/index.js';
import type { Queryable } from '../store/index.js';

/** What a token may do. `read` covers list, show, tags and version. */
export const DEPLOY_ACTIONS = ['read', 'deploy', 'canary', 'promote', 'rollback'] as const;
export type DeployAction = (typeof DEPLOY_ACTIONS)[number];

/** Who is calling and what they may do; `insecure-dev` may do everything. */
export interface DeployPrincipal {
  name: string;
  services: readonly string[];
  actions: readonly DeployAction[];
}

export const INSECURE_DEV_PRINCIPAL: DeployPrincipal = {
  name: 'insecure-dev',
  services: ['*'],
  actions: DEPLOY_ACTIONS,
};

export const tokenRequestSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, . _ - (at most 64)'),
  services: z.array(z.string().min(1)).min(1),
  actions: z.array(z.enum(DEPLOY_ACTIONS)).min(1),
});

const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * Mints a token and stores only the SHA-256 of its secret; the secret is returned once.
 * Creating a token with an existing name replaces it (a rotation).
 *
 * @example const { secret } = await createDeployToken(store, { name: 'ci', services: ['web'], actions: ['deploy'] })
 */
export async function createDeployToken(
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
  const { name, services, actions } = parsed.data;
  const secret = `cdt_${randomBytes(32).toString('base64url')}`;
  await db.query(
    `insert into deploy_tokens (name, secret_sha256, services, actions) values ($1, $2, $3, $4)
     on conflict (name) do update set secret_sha256 = excluded.secret_sha256,
       services = excluded.services, actions = excluded.actions, created_at = now()`,
    [name, sha256(secret), services, [...new Set(actions)]],
  );
  return { name, secret };
}

export async function countDeployTokens(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    'select count(*)::int as count from deploy_tokens',
  );
  return rows[0]?.count ?? 0;
}

/** The credentials of a request: HTTP Basic `NAME:SECRET`, or `Bearer SECRET`. */
function credentials(header: string | undefined): { name?: string; secret: string } | undefined {
  if (!header) return undefined;
  const [scheme, value] = [
    header.slice(0, header.indexOf(' ')),
    header.slice(header.indexOf(' ') + 1).trim(),
  ];
  if (/^bearer$/i.test(scheme)) return value ? { secret: value } : undefined;
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    return { name: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
  return undefined;
}

/**
 * The principal an `Authorization` header names; `unauthorized` without one or with a bad one.
 * A Basic user name must be the token's own name.
 */
export async function authenticate(
  db: Queryable,
  authorization: string | undefined,
): Promise<DeployPrincipal> {
  const given = credentials(authorization);
  if (!given) {
    throw new CadenceError('unauthorized', {
      field: 'authorization',
      detail: 'a deployer token is required (HTTP Basic NAME:SECRET or Bearer SECRET)',
    });
  }
  const digest = sha256(given.secret);
  const { rows } = await db.query<{
    name: string;
    secret_sha256: string;
    services: string[];
    actions: DeployAction[];
  }>('select name, secret_sha256, services, actions from deploy_tokens where secret_sha256 = $1', [
    digest,
  ]);
  const row = rows[0];
  const matches =
    row !== undefined &&
    timingSafeEqual(Buffer.from(row.secret_sha256), Buffer.from(digest)) &&
    (given.name === undefined || given.name === row.name);
  if (!matches) {
    throw new CadenceError('unauthorized', {
      field: 'authorization',
      detail: 'the deployer token is not valid',
    });
  }
  return { name: row.name, services: row.services, actions: row.actions };
}

export function mayAct(
  principal: DeployPrincipal,
  action: DeployAction,
  service?: string,
): boolean {
  return (
    principal.actions.includes(action) &&
    (service === undefined ||
      principal.services.includes('*') ||
      principal.services.includes(service))
  );
}

/** `forbidden` unless the principal may do `action` on `service`. */
export function authorize(principal: DeployPrincipal, action: DeployAction, service: string): void {
  if (!mayAct(principal, action, service)) {
    throw new CadenceError('forbidden', {
      field: 'authorization',
      detail: `token ${principal.name} may not ${action} ${service}`,
    });
  }
}
