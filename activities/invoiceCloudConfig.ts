import { z } from 'zod';
import type { DataEncoding } from '../protocol/codec.js';
import { DEFAULT_GATEWAY_PATH } from '../protocol/envelope.js';
import { describeZodError } from '../protocol/interfaces.js';
import { ProfileError, profileFromEnv, type ProtocolProfile } from '../protocol/profile.js';

/**
 * How the worker reaches the invoice cloud, from INVOICE_CLOUD_* environment variables.
 *
 * Sandbox mode is a base URL on loopback (the default `http://127.0.0.1:8790`, unless NODE_ENV is
 * `production`): only there do the sandbox's demo tenant values (the seed's samples) fill in what
 * is not set, so `npm start` works with nothing set. Any other URL must be https and every tenant
 * value and secret must be given: a missing one is a ConfigError naming the variable.
 */
export interface InvoiceCloudConfig {
  /** The base URL is on loopback: a sandbox, where demo values filled in what was not set. */
  sandboxMode: boolean;
  baseUrl: string;
  gatewayPath: string;
  appId: string;
  appSecret: string;
  tenantId: string;
  accountId: string;
  user: string;
  userType: 'Mobile' | 'UserName';
  businessSystemCode: string;
  encoding: DataEncoding;
  /** Every choice the public evidence leaves open (protocol/profile.ts, INVOICE_CLOUD_PROFILE). */
  profile: ProtocolProfile;
  /** Record every call, redacted, as a capture file here (INVOICE_CLOUD_CAPTURE_DIR). */
  captureDir?: string;
  timeoutMs: number;
  /**
   * Gateway calls per second this worker process allows itself: its share of the tenant's quota,
   * floor(INVOICE_CLOUD_MAX_RPS / INVOICE_CLOUD_FLEET_SIZE); undefined = no limit.
   */
  maxRequestsPerSecond?: number;
  /** Where that share comes from, when a quota is set (docs/fleet-quota.md). */
  quota?: { tenantRequestsPerSecond: number; fleetSize: number };
  /** Bureau confirmation passwords (确认密码) by taxNo, with an optional default. */
  confirmPasswords: Record<string, string>;
  defaultConfirmPassword?: string;
}

/** The sandbox's demo tenant (simulator/demo.ts): used only in sandbox mode. */
const SANDBOX_DEFAULTS = {
  INVOICE_CLOUD_APP_ID: 'CASHINV',
  INVOICE_CLOUD_APP_SECRET: '12345678',
  INVOICE_CLOUD_TENANT_ID: 'devbiz',
  INVOICE_CLOUD_ACCOUNT_ID: '1534920374578620490',
  INVOICE_CLOUD_USER: '13825207590',
  INVOICE_CLOUD_BUSINESS_SYSTEM_CODE: 'yhtest',
  INVOICE_CLOUD_CONFIRM_PASSWORD: '1234567',
} as const;

export const SANDBOX_BASE_URL = 'http://127.0.0.1:8790';

const Env = z.object({
  INVOICE_CLOUD_BASE_URL: z.url(),
  INVOICE_CLOUD_GATEWAY_PATH: z.string().startsWith('/').default(DEFAULT_GATEWAY_PATH),
  INVOICE_CLOUD_APP_ID: z.string().min(1),
  INVOICE_CLOUD_APP_SECRET: z.string().min(1),
  INVOICE_CLOUD_TENANT_ID: z.string().min(1),
  INVOICE_CLOUD_ACCOUNT_ID: z.string().min(1),
  INVOICE_CLOUD_USER: z.string().min(1),
  INVOICE_CLOUD_USER_TYPE: z.enum(['Mobile', 'UserName']).default('Mobile'),
  INVOICE_CLOUD_BUSINESS_SYSTEM_CODE: z.string().min(1),
  /** Set when the tenant encrypts `data` with AES-128-GCM; unset means plain base64. */
  INVOICE_CLOUD_DATA_PASSWORD: z.string().min(1).optional(),
  INVOICE_CLOUD_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  /**
   * The tenant's request quota (calls per second) for all its worker processes together; each
   * process keeps to its share of it. Unset = no limit.
   */
  INVOICE_CLOUD_MAX_RPS: z.coerce.number().int().positive().optional(),
  /**
   * The most worker processes that can run at once for this tenant (counting a new one started
   * before the old one has stopped): each gets floor(INVOICE_CLOUD_MAX_RPS / this).
   */
  INVOICE_CLOUD_FLEET_SIZE: z.coerce.number().int().positive().default(1),
  /** A folder for redacted request/reply captures of every call; unset = only drift and unreadable replies. */
  INVOICE_CLOUD_CAPTURE_DIR: z.string().min(1).optional(),
  /** JSON object taxNo -> bureau confirmation password. */
  INVOICE_CLOUD_CONFIRM_PASSWORDS: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (!raw) return {};
      try {
        return z.record(z.string(), z.string().min(1)).parse(JSON.parse(raw));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object of taxNo to password' });
        return z.NEVER;
      }
    }),
  /** Password used for any taxNo not in INVOICE_CLOUD_CONFIRM_PASSWORDS (sandbox mode: the seed's). */
  INVOICE_CLOUD_CONFIRM_PASSWORD: z.string().min(1).optional(),
});

/** Hosts that never leave the machine: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host)
  );
}

/** The environment with blanks removed: compose passes an unset variable through as ''. */
function withoutBlanks(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== ''),
  );
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function invoiceCloudConfigFromEnv(rawEnv: NodeJS.ProcessEnv = process.env): InvoiceCloudConfig {
  const env = withoutBlanks(rawEnv);
  const baseUrl = env.INVOICE_CLOUD_BASE_URL ?? (env.NODE_ENV === 'production' ? undefined : SANDBOX_BASE_URL);
  if (baseUrl === undefined) {
    throw new ConfigError(
      "INVOICE_CLOUD_BASE_URL is not set: with NODE_ENV=production there is no default sandbox; set the invoice cloud's https URL",
    );
  }
  if (!URL.canParse(baseUrl)) throw new ConfigError(`INVOICE_CLOUD_BASE_URL=${baseUrl}: not a URL`);
  const sandboxMode = isLoopbackUrl(baseUrl);
  if (!sandboxMode) {
    if (new URL(baseUrl).protocol !== 'https:') {
      throw new ConfigError(
        `INVOICE_CLOUD_BASE_URL=${baseUrl}: an invoice cloud off this machine must be reached over https (plain http is only for a sandbox on loopback)`,
      );
    }
    const missing = Object.keys(SANDBOX_DEFAULTS).filter(
      (name) => name !== 'INVOICE_CLOUD_CONFIRM_PASSWORD' && env[name] === undefined,
    );
    if (env.INVOICE_CLOUD_CONFIRM_PASSWORD === undefined && env.INVOICE_CLOUD_CONFIRM_PASSWORDS === undefined) {
      missing.push('INVOICE_CLOUD_CONFIRM_PASSWORDS (or INVOICE_CLOUD_CONFIRM_PASSWORD)');
    }
    if (missing.length > 0) {
      throw new ConfigError(
        `Missing invoice-cloud settings for ${baseUrl} (demo values are used only for a sandbox on loopback): set ${missing.join(', ')}`,
      );
    }
  }
  const parsed = Env.safeParse({ ...(sandboxMode ? SANDBOX_DEFAULTS : {}), ...env, INVOICE_CLOUD_BASE_URL: baseUrl });
  if (!parsed.success) {
    throw new ConfigError(`Invalid invoice-cloud configuration: ${describeZodError(parsed.error)}`);
  }
  const e = parsed.data;
  let profile: ProtocolProfile;
  try {
    profile = profileFromEnv(env);
  } catch (error) {
    if (error instanceof ProfileError) throw new ConfigError(`Invalid protocol profile: ${error.message}`);
    throw error;
  }
  if (profile.encoding === 'aes-gcm' && !e.INVOICE_CLOUD_DATA_PASSWORD) {
    throw new ConfigError(
      'The protocol profile says the tenant encrypts data (encoding aes-gcm): set INVOICE_CLOUD_DATA_PASSWORD',
    );
  }
  const share = e.INVOICE_CLOUD_MAX_RPS ? Math.floor(e.INVOICE_CLOUD_MAX_RPS / e.INVOICE_CLOUD_FLEET_SIZE) : undefined;
  if (share === 0) {
    throw new ConfigError(
      `INVOICE_CLOUD_FLEET_SIZE=${e.INVOICE_CLOUD_FLEET_SIZE} is more than INVOICE_CLOUD_MAX_RPS=${e.INVOICE_CLOUD_MAX_RPS}: each worker process's share of the quota would be less than one request per second; run at most ${e.INVOICE_CLOUD_MAX_RPS} worker processes for this tenant`,
    );
  }
  return {
    sandboxMode,
    baseUrl: e.INVOICE_CLOUD_BASE_URL.replace(/\/$/, ''),
    gatewayPath: e.INVOICE_CLOUD_GATEWAY_PATH,
    appId: e.INVOICE_CLOUD_APP_ID,
    appSecret: e.INVOICE_CLOUD_APP_SECRET,
    tenantId: e.INVOICE_CLOUD_TENANT_ID,
    accountId: e.INVOICE_CLOUD_ACCOUNT_ID,
    user: e.INVOICE_CLOUD_USER,
    userType: e.INVOICE_CLOUD_USER_TYPE,
    businessSystemCode: e.INVOICE_CLOUD_BUSINESS_SYSTEM_CODE,
    encoding: e.INVOICE_CLOUD_DATA_PASSWORD
      ? { kind: 'aes-gcm', password: e.INVOICE_CLOUD_DATA_PASSWORD }
      : { kind: 'base64' },
    profile,
    ...(e.INVOICE_CLOUD_CAPTURE_DIR ? { captureDir: e.INVOICE_CLOUD_CAPTURE_DIR } : {}),
    timeoutMs: e.INVOICE_CLOUD_TIMEOUT_MS,
    ...(e.INVOICE_CLOUD_MAX_RPS && share
      ? {
          maxRequestsPerSecond: share,
          quota: { tenantRequestsPerSecond: e.INVOICE_CLOUD_MAX_RPS, fleetSize: e.INVOICE_CLOUD_FLEET_SIZE },
        }
      : {}),
    confirmPasswords: e.INVOICE_CLOUD_CONFIRM_PASSWORDS,
    defaultConfirmPassword: e.INVOICE_CLOUD_CONFIRM_PASSWORD,
  };
}

export function confirmPasswordFor(config: InvoiceCloudConfig, taxNo: string): string {
  const password = config.confirmPasswords[taxNo] ?? config.defaultConfirmPassword;
  if (!password) {
    throw new ConfigError(
      `No bureau confirmation password for taxNo ${taxNo}: set INVOICE_CLOUD_CONFIRM_PASSWORDS or INVOICE_CLOUD_CONFIRM_PASSWORD on the worker`,
    );
  }
  return password;
}
