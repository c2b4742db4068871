import { DefaultLogger, type LogEntry, Runtime } from '@temporalio/worker';
import pino from 'pino';

/** Keys whose values never reach a log line. */
export const REDACTED_KEYS = [
  'password',
  'appSecret',
  'appSecuret',
  'app_token',
  'apptoken',
  'access_token',
  'accessToken',
  'confirmPassword',
  'authorization',
];

/** A pino logger with secrets redacted; `destination` overrides stdout (tests capture lines). */
export function createLogger(name: string, destination?: pino.DestinationStream): pino.Logger {
  const options: pino.LoggerOptions = {
    name,
    level: process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]), censor: '[redacted]' },
    // JSON for machines; readable lines when a person watches a terminal (LOG_FORMAT=json forces JSON).
    ...(!destination && process.stdout.isTTY && process.env.LOG_FORMAT !== 'json'
      ? {
          transport: {
            target: 'pino-pretty',
            options: { ignore: 'pid,hostname,taskToken', translateTime: 'SYS:HH:MM:ss' },
          },
        }
      : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}

let installed = false;

/** Routes the Temporal runtime's and the SDK's logs (workflow and activity loggers) to pino. */
export function installRuntimeLogging(logger: pino.Logger, opts: { prometheusBindAddress?: string } = {}): void {
  if (installed) return; // Runtime.install may run once per process.
  installed = true;
  Runtime.install({
    // The runtime's own metrics (workflow/activity task latencies, polls, slots) for Prometheus.
    ...(opts.prometheusBindAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: opts.prometheusBindAddress } } } }
      : {}),
    logger: new DefaultLogger('INFO', (entry: LogEntry) => {
      logger[pinoLevel(entry)]({ ...entry.meta }, entry.message);
    }),
  });
}

/**
 * The SDK's level. A bureau task still processing fails its polling activity on purpose, as a
 * benign failure (activities/failures.ts), which the SDK itself logs at DEBUG.
 */
function pinoLevel(entry: LogEntry): 'trace' | 'debug' | 'info' | 'warn' | 'error' {
  return entry.level === 'TRACE' ? 'trace' : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
}
