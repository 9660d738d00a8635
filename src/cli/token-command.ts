import { Command, Option } from 'commander';
import { createDeployToken, DEPLOY_ACTIONS } from '../deploy/index.js';
import { addStoreOptions, openCliStore, type StoreFlags } from './git-command.js';

const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** `cadence token create NAME --services a,b --actions deploy,read`: prints the secret once. */
export function tokenCommand(): Command {
  const create = addStoreOptions(
    new Command('create')
      .description('mint a deployer token (stored hashed; the secret is printed once)')
      .argument('<name>', 'token name (the HTTP Basic user name)')
      .requiredOption('--services <names>', "services it may act on, comma-separated, or '*'", list)
      .addOption(
        new Option('--actions <actions>', `actions it may take: ${DEPLOY_ACTIONS.join(', ')}`)
          .argParser(list)
          .makeOptionMandatory(),
      )
      .option('--json', 'print {name, secret, token} as JSON'),
  ).action(
    async (
      name: string,
      options: StoreFlags & { services: string[]; actions: string[]; json?: boolean },
    ) => {
      const { store } = await openCliStore(options);
      try {
        const { secret } = await createDeployToken(store, {
          name,
          services: options.services,
          actions: options.actions as (typeof DEPLOY_ACTIONS)[number][],
        });
        const token = `${name}:${secret}`;
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ name, secret, token })}\n`);
        } else {
          process.stdout.write(
            `${token}\n` +
              `# the secret is shown only now; use it as HTTP Basic (https://${name}:SECRET@host/…), ` +
              'Bearer SECRET, --token or CADENCE_TOKEN\n',
          );
        }
      } finally {
        await store.close();
      }
    },
  );
  return new Command('token').description('deployer API tokens').addCommand(create);
}
