import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { DataEncoding } from '../protocol/codec.js';
import { describeZodError } from '../protocol/interfaces.js';
import type { ProtocolProfile } from '../protocol/profile.js';
import { resolveProfile } from './settings.js';
import { FaultSettings, LatencyDistribution, TASK_KINDS, type StartFaults } from './faults/schemas.js';

/** `npm run sandbox` settings from the environment; a bad value is an error naming the variable. */

const json = <S extends z.ZodType>(schema: S) =>
  z
    .string()
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

const Env = z.object({
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(8790),
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_DB: z.string().min(1).default('.data/sandbox.sqlite'),
  SANDBOX_FAULTS: json(FaultSettings).optional(),
  SANDBOX_QUOTA_RPS: z.coerce.number().int().positive().optional(),
  SANDBOX_TASK_LATENCY: json(z.partialRecord(z.enum(TASK_KINDS), LatencyDistribution)).optional(),
  SANDBOX_LATENCY_SEED: z.coerce.number().int().optional(),
  SANDBOX_ACCESS_TOKEN_TTL_MS: z.coerce.number().int().positive().optional(),
  /** A JSON file with the protocol profile the sandbox speaks (protocol/profile.ts). */
  SANDBOX_PROFILE: z.string().min(1).optional(),
  /** 1: writes repeating a requestId get their first reply (off by default, as on a real bureau). */
  SANDBOX_DEDUPLICATE_REQUEST_IDS: z.enum(['0', '1']).optional(),
  /** Replay mode: a folder of capture files answers every business call (simulator/replay.ts). */
  SANDBOX_REPLAY_DIR: z.string().min(1).optional(),
  /** The replayed tenant's AES-GCM data password; unset = base64 data. */
  SANDBOX_REPLAY_DATA_PASSWORD: z.string().min(1).optional(),
});

export interface SandboxEnv {
  port: number;
  host: string;
  dbFile: string;
  faults?: StartFaults;
  accessTokenTtlMs?: number;
  profile?: ProtocolProfile;
  deduplicateRequestIds?: boolean;
  replayDir?: string;
  replayEncoding?: DataEncoding;
}

/** The profile in the JSON file SANDBOX_PROFILE names; errors name the variable and the file. */
function profileFile(file: string): ProtocolProfile {
  const source = `SANDBOX_PROFILE=${file}`;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Invalid sandbox configuration: ${source}: ${(error as Error).message}`);
  }
  return resolveProfile(raw, source);
}

export function sandboxEnv(env: NodeJS.ProcessEnv): SandboxEnv {
  const parsed = Env.safeParse(env);
  if (!parsed.success) throw new Error(`Invalid sandbox configuration: ${describeZodError(parsed.error)}`);
  const e = parsed.data;
  const faults: StartFaults = {
    ...(e.SANDBOX_FAULTS ? { faults: e.SANDBOX_FAULTS } : {}),
    ...(e.SANDBOX_QUOTA_RPS ? { quota: { requestsPerSecond: e.SANDBOX_QUOTA_RPS } } : {}),
    ...(e.SANDBOX_TASK_LATENCY ? { taskLatency: e.SANDBOX_TASK_LATENCY } : {}),
    ...(e.SANDBOX_LATENCY_SEED !== undefined ? { latencySeed: e.SANDBOX_LATENCY_SEED } : {}),
  };
  return {
    port: e.SANDBOX_PORT,
    host: e.SANDBOX_HOST,
    dbFile: e.SANDBOX_DB,
    ...(Object.keys(faults).length ? { faults } : {}),
    ...(e.SANDBOX_ACCESS_TOKEN_TTL_MS ? { accessTokenTtlMs: e.SANDBOX_ACCESS_TOKEN_TTL_MS } : {}),
    ...(e.SANDBOX_PROFILE ? { profile: profileFile(e.SANDBOX_PROFILE) } : {}),
    ...(e.SANDBOX_DEDUPLICATE_REQUEST_IDS ? { deduplicateRequestIds: e.SANDBOX_DEDUPLICATE_REQUEST_IDS === '1' } : {}),
    ...(e.SANDBOX_REPLAY_DIR ? { replayDir: e.SANDBOX_REPLAY_DIR } : {}),
    ...(e.SANDBOX_REPLAY_DATA_PASSWORD
      ? { replayEncoding: { kind: 'aes-gcm' as const, password: e.SANDBOX_REPLAY_DATA_PASSWORD } }
      : {}),
  };
}
