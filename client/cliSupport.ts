/** What every CLI command shares: exit codes, errors, I/O, the Temporal client's lifetime. */
import { createInterface } from 'node:readline/promises';
import { CommanderError } from 'commander';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import {
  DecisionRefusedError,
  DeductionInputError,
  DeductionNotFoundError,
  DeductionStateError,
} from './deductions.js';
import {
  TemporalConfigError,
  TemporalUnreachableError,
  createTemporalClient,
  temporalSettingsFromEnv,
} from '../runtime/temporalConnection.js';
import { RegistryError } from './registry.js';
import { TenantOptionError } from './tenantOption.js';

export const EXIT_OK = 0;
export const EXIT_UNEXPECTED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_UNREACHABLE = 3;
export const EXIT_NOT_FOUND_OR_STATE = 4;
/** The workflow refused the decision (not an approver, already decided, stale table, wrong stage, unsigned, ...). */
export const EXIT_DECISION_REFUSED = 5;
/** The approval was taken, then voided: the bureau's table changed; the new table awaits approval. */
export const EXIT_APPROVAL_VOIDED = 6;

/** An error that ends the CLI with a given exit code. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  /** Whether output goes to a terminal (status --watch redraws the screen then). */
  isTty?: boolean;
  /** Whether input comes from a terminal: `approve` asks there for the digest it approves. */
  isStdinTty?: boolean;
  /** Asks a question on the terminal and answers the line typed. */
  ask?: (question: string) => Promise<string>;
  /** Opens the Temporal client (default: from `env`). Only called after every argument is valid. */
  connect: () => Promise<Client>;
}

export function defaultIo(partial: Partial<CliIo>): CliIo {
  const env = partial.env ?? process.env;
  return {
    out: partial.out ?? ((text) => process.stdout.write(text)),
    err: partial.err ?? ((text) => process.stderr.write(text)),
    env,
    now: partial.now ?? (() => new Date()),
    isTty: partial.isTty ?? (partial.out ? false : Boolean(process.stdout.isTTY)),
    isStdinTty: partial.isStdinTty ?? (partial.out ? false : Boolean(process.stdin.isTTY)),
    ask:
      partial.ask ??
      (async (question) => {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        try {
          return await rl.question(question);
        } finally {
          rl.close();
        }
      }),
    connect:
      partial.connect ??
      (async () => {
        const settings = temporalSettingsFromEnv(env);
        return createTemporalClient(settings);
      }),
  };
}

export function bad(message: string): never {
  throw new CliError(message, EXIT_BAD_INPUT);
}

export async function withClient<T>(io: Pick<CliIo, 'connect'>, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await io.connect();
  try {
    return await fn(client);
  } finally {
    await client.connection.close().catch(() => undefined);
  }
}

export function isUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e) && e.code === 14) return true; // UNAVAILABLE
  }
  return false;
}

/** Maps an error to [exit code, message to print or undefined when commander already printed it]. */
export function exitCodeFor(err: unknown): [number, string | undefined] {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return [EXIT_OK, undefined];
    }
    return [EXIT_BAD_INPUT, undefined];
  }
  if (err instanceof CliError) return [err.exitCode, err.message];
  if (
    err instanceof DeductionInputError ||
    err instanceof TemporalConfigError ||
    err instanceof RegistryError ||
    err instanceof TenantOptionError
  ) {
    return [EXIT_BAD_INPUT, err.message];
  }
  if (err instanceof TemporalUnreachableError) return [EXIT_UNREACHABLE, err.message];
  if (err instanceof DecisionRefusedError) return [EXIT_DECISION_REFUSED, `refused 已拒绝: ${err.reason}`];
  if (err instanceof DeductionNotFoundError || err instanceof DeductionStateError) {
    return [EXIT_NOT_FOUND_OR_STATE, err.message];
  }
  if (isUnavailable(err)) {
    return [EXIT_UNREACHABLE, `Temporal became unreachable: ${(err as Error).message}. Is the server running?`];
  }
  return [EXIT_UNEXPECTED, `Unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`];
}
