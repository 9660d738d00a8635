import { Command, InvalidArgumentError } from 'commander';
import { defaults, loadConfig } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { configOption, databaseUrlOption, dataDirOption } from './command-target.js';

function integer(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0)
    throw new InvalidArgumentError('must be a whole number');
  return number;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description(
      'run the Cadence server: API, event intake and router (embedded store unless DATABASE_URL)',
    )
    .addOption(configOption())
    .option(
      '--host <host>',
      `address to listen on (env CADENCE_HOST) (default: "${defaults.server.host}")`,
    )
    .option(
      '--port <port>',
      `port to listen on (env CADENCE_PORT) (default: ${defaults.server.port})`,
      integer,
    )
    .addOption(dataDirOption())
    .addOption(databaseUrlOption())
    .option(
      '--body-limit-bytes <n>',
      `largest request body (env CADENCE_BODY_LIMIT_BYTES) (default: ${defaults.server.bodyLimitBytes})`,
      integer,
    )
    .option('--insecure-dev', 'serve the deployer without tokens (a developer machine only)')
    .option('--log-level <level>', 'log level: debug, info, warn, error (env CADENCE_LOG_LEVEL)')
    .action(
      async (options: {
        config?: string;
        host?: string;
        port?: number;
        dataDir?: string;
        databaseUrl?: string;
        bodyLimitBytes?: number;
        logLevel?: string;
        insecureDev?: boolean;
      }) => {
        const config = loadConfig({ file: options.config, env: process.env, flags: options });
        if (options.insecureDev) config.deployer.insecureDev = true;
        const logger = createLogger(options.logLevel ? { level: options.logLevel } : {});
        // Loaded here, not at the top: the server's modules (Fastify, the Kubernetes client…)
        // would cost every one-shot command a second and ~90 MB.
        const { startServer } = await import('../server/index.js');
        const server = await startServer(config, logger);
        const shutdown = (signal: string) => {
          logger.info({ signal }, 'shutting down');
          const timer = setTimeout(() => {
            logger.error({ timeoutMs: config.server.shutdownTimeoutMs }, 'shutdown timed out');
            process.exit(1);
          }, config.server.shutdownTimeoutMs);
          timer.unref();
          server.close().then(
            () => process.exit(0),
            (error: unknown) => {
              logger.error({ err: error }, 'shutdown failed');
              process.exit(1);
            },
          );
        };
        process.once('SIGTERM', () => shutdown('SIGTERM'));
        process.once('SIGINT', () => shutdown('SIGINT'));
      },
    );
}
