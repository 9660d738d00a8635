import { Command, Option } from 'commander';
import {
  ACTIONS,
  createToken,
  listTokens,
  parseLifetime,
  revokeToken,
  type Action,
  type TokenSummary,
} from '../auth/index.js';
import { request } from './api-client.js';
import {
  addTargetOptions,
  commandTarget,
  isLocalStore,
  withLocalStore,
  type TargetFlags,
} from './command-target.js';
import { renderTable } from './table.js';

const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

type TokenJson = ReturnType<typeof tokenJson>;
const date = (value: string | null) => (value === null ? null : new Date(value));
const tokenFromJson = (token: TokenJson): TokenSummary => ({
  ...token,
  createdAt: new Date(token.createdAt),
  expiresAt: date(token.expiresAt),
  lastUsedAt: date(token.lastUsedAt),
});
const iso = (value: Date | null) => (value === null ? null : value.toISOString());
const tokenJson = (token: TokenSummary) => ({
  ...token,
  createdAt: token.createdAt.toISOString(),
  expiresAt: iso(token.expiresAt),
  lastUsedAt: iso(token.lastUsedAt),
});

/**
 * `cadence token create NAME --services a,b --actions deploy,read [--sources github] [--expires 30d]`
 * prints the secret once; `cadence token list` shows scope, expiry and last use; `cadence token
 * revoke NAME` deletes one.
 */
export function tokenCommand(): Command {
  const create = addTargetOptions(
    new Command('create')
      .description(
        'mint a token (stored hashed; the secret is printed once); an existing name is rotated',
      )
      .argument('<name>', 'token name (the HTTP Basic user name)')
      .requiredOption('--services <names>', "services it may act on, comma-separated, or '*'", list)
      .addOption(
        new Option('--actions <actions>', `actions it may take: ${ACTIONS.join(', ')}`)
          .argParser(list)
          .makeOptionMandatory(),
      )
      .option(
        '--sources <names>',
        "for ingest: the producers it may send events for (github, gitlab, alertmanager, argocd, tekton, cdevents, kubernetes-apiserver), or '*'",
        list,
      )
      .option(
        '--expires <lifetime>',
        'stop working after this long: 90m, 12h, 30d, 8w (default: never)',
      )
      .option('--json', 'print {name, secret, token, expiresAt} as JSON'),
    'store',
  ).action(
    async (
      name: string,
      options: TargetFlags & {
        services: string[];
        actions: string[];
        sources?: string[];
        expires?: string;
        json?: boolean;
      },
    ) => {
      const expiresAt =
        options.expires === undefined
          ? undefined
          : new Date(Date.now() + parseLifetime(options.expires));
      const target = await commandTarget(options, 'store');
      const { secret } = !isLocalStore(target)
        ? await request<{ secret: string }>(target, 'POST', '/api/v1/tokens', {
            body: {
              name,
              services: options.services,
              actions: options.actions,
              sources: options.sources ?? [],
              ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
            },
          })
        : await withLocalStore(target, (store) =>
            createToken(store, {
              name,
              services: options.services,
              actions: options.actions as Action[],
              sources: options.sources ?? [],
              ...(expiresAt ? { expiresAt } : {}),
            }),
          );
      const token = `${name}:${secret}`;
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ name, secret, token, expiresAt: expiresAt?.toISOString() ?? null })}\n`,
        );
      } else {
        process.stdout.write(
          `${token}\n` +
            `# the secret is shown only now; use it as HTTP Basic (https://${name}:SECRET@host/…), ` +
            `Bearer ${name}:SECRET, --token or CADENCE_TOKEN` +
            (expiresAt ? `; it expires at ${expiresAt.toISOString()}` : '') +
            '\n',
        );
      }
    },
  );
  const show = addTargetOptions(
    new Command('list')
      .description('every token: scope, expiry and when it was last used (never a secret)')
      .option('--json', 'print the tokens as JSON'),
    'store',
  ).action(async (options: TargetFlags & { json?: boolean }) => {
    const target = await commandTarget(options, 'store');
    const tokens = isLocalStore(target)
      ? await withLocalStore(target, (store) => listTokens(store))
      : (await request<{ tokens: TokenJson[] }>(target, 'GET', '/api/v1/tokens')).tokens.map(
          tokenFromJson,
        );
    if (options.json) {
      process.stdout.write(`${JSON.stringify(tokens.map(tokenJson), null, 2)}\n`);
      return;
    }
    if (tokens.length === 0) {
      process.stdout.write("no tokens; create one with 'cadence token create'\n");
      return;
    }
    const now = Date.now();
    process.stdout.write(
      `${renderTable(
        ['NAME', 'ACTIONS', 'SERVICES', 'SOURCES', 'EXPIRES', 'LAST USED'],
        tokens.map((token) => [
          token.name,
          token.actions.join(','),
          token.services.join(','),
          token.sources.join(',') || '-',
          token.expiresAt === null
            ? 'never'
            : `${token.expiresAt.toISOString()}${token.expiresAt.getTime() <= now ? ' (expired)' : ''}`,
          token.lastUsedAt?.toISOString() ?? 'never',
        ]),
      )}\n`,
    );
  });
  const revoke = addTargetOptions(
    new Command('revoke')
      .description('delete a token: its secret stops working at once')
      .argument('<name>', 'token name'),
    'store',
  ).action(async (name: string, options: TargetFlags) => {
    const target = await commandTarget(options, 'store');
    if (isLocalStore(target)) await withLocalStore(target, (store) => revokeToken(store, name));
    else await request(target, 'DELETE', `/api/v1/tokens/${encodeURIComponent(name)}`);
    process.stdout.write(`revoked ${name}\n`);
  });
  return new Command('token')
    .description('API tokens: scoped actions, services and sources')
    .addCommand(create)
    .addCommand(show)
    .addCommand(revoke);
}
