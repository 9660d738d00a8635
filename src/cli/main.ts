/**
 * cli — the `cadence` command: a thin shell over the domain modules and the server's API.
 * Errors print one clear line and exit non-zero; --json is there wherever output is data.
 */
import { Command, CommanderError } from 'commander';
import { CadenceError } from '../problem/index.js';
import { cadenceVersion } from '../version/index.js';
import { analysesCommand, canaryWaitCommand } from './analyses-command.js';
import { EXIT_CODES, exitCodeForProblem } from './api-client.js';
import { completionCommand } from './completion.js';
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
program.addCommand(completionCommand(() => program));

// Commander's own errors (unknown option, missing argument) are usage errors: exit 2, not 1.
// Set on every command, since addCommand'ed commands do not inherit it.
const everyCommand = (command: Command): Command[] => [
  command,
  ...command.commands.flatMap(everyCommand),
];
for (const command of everyCommand(program)) command.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with exitCode 0; commander has printed the message.
    process.exit(error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage);
  }
  if (error instanceof CadenceError) {
    const where = error.field ? ` (${error.field})` : '';
    process.stderr.write(`cadence: ${error.message}${where}\n`);
    process.exit(exitCodeForProblem(error.code));
  }
  throw error;
}
