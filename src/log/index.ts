/**
 * log — structured logging. Messages are static; the variable parts go in the first argument's
 * fields so log lines group (`logger.warn({ seq, error }, 'transformer failed')`).
 * The logger is created once by the shell (server or CLI) and passed down.
 */
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export function createLogger(options: { level?: string } = {}): PinoLogger {
  return pino({ level: options.level ?? process.env.CADENCE_LOG_LEVEL ?? 'info' });
}

/** A logger that drops everything: for tests and for library use without a shell. */
export const silentLogger: Logger = pino({ level: 'silent' });
