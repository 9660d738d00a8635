/**
 * cli — the `cadence` command: a thin shell over the domain modules and the server's API.
 * Errors print one clear line and exit non-zero; --json is there wherever output is data.
 */
import { Command } from 'commander';
import { CadenceError } from '../problem/index.js';
import { cadenceVersion } from '../version/index.js';
import { analysesCommand, canaryWaitCommand } from './analyses-command.js';
import { deployCommands } from './deploy-commands.js';
import { eventsCommand } from './events-command.js';
import { gitCommand } from './git-command.js';
import { metricsCommand } from './metrics-command.js';
import { rolloutsCommand } from './rollouts-command.js';
import { serveCommand } from './serve-command.js';
import { sqlCommand } from './sql-command.js';
import { tokenCommand } from './token-command.js';
import { updateCommands } from './update-commands.js';

const program = new Command('cadence')
  .description('Continuous delivery for Kubernetes that measures itself')
  .version(cadenceVersion())
  .showHelpAfterError()
  .addCommand(serveCommand())
  .addCommand(eventsCommand())
  .addCommand(metricsCommand())
  .addCommand(gitCommand())
  .addCommand(rolloutsCommand())
  .addCommand(sqlCommand())
  .addCommand(analysesCommand())
  .addCommand(canaryWaitCommand())
  .addCommand(tokenCommand());
for (const command of deployCommands()) program.addCommand(command);
for (const command of updateCommands()) program.addCommand(command);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CadenceError) {
    const where = error.field ? ` (${error.field})` : '';
    process.stderr.write(`cadence: ${error.message}${where}\n`);
    process.exit(error.code === 'not-found' ? 4 : 1);
  }
  throw error;
}
