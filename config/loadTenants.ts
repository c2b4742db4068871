/**
 * Reads the tenants file (INVOICE_CLOUD_TENANTS_FILE, docs/tenants.md) and turns each tenant into
 * the invoice-cloud configuration a worker uses, through invoiceCloudConfigFromEnv: every rule of
 * the INVOICE_CLOUD_* environment (sandbox mode, https, profile, quota share) holds per tenant.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, invoiceCloudConfigFromEnv, type InvoiceCloudConfig } from '../activities/invoiceCloudConfig.js';
import { zodErrorLines } from '../protocol/zodErrors.js';
import { TenantsFile, type SecretRef, type TenantEntry } from './tenantsSchema.js';

export const TENANTS_FILE_VARIABLE = 'INVOICE_CLOUD_TENANTS_FILE';

/** The tenants file is unreadable, invalid, or a tenant's settings or secrets are (CLI exit code 2). */
export class TenantsFileError extends Error {
  override name = 'TenantsFileError';
}

export interface TenantConfig {
  id: string;
  invoiceCloud: InvoiceCloudConfig;
}

/** Each tenant field beside the INVOICE_CLOUD_* variable it stands for, for error messages. */
const FIELD_OF_VARIABLE: [string, string][] = [
  ['INVOICE_CLOUD_BASE_URL', 'baseUrl'],
  ['INVOICE_CLOUD_GATEWAY_PATH', 'gatewayPath'],
  ['INVOICE_CLOUD_APP_ID', 'appId'],
  ['INVOICE_CLOUD_APP_SECRET', 'appSecret'],
  ['INVOICE_CLOUD_TENANT_ID', 'tenantId'],
  ['INVOICE_CLOUD_ACCOUNT_ID', 'accountId'],
  ['INVOICE_CLOUD_USER_TYPE', 'userType'],
  ['INVOICE_CLOUD_USER', 'user'],
  ['INVOICE_CLOUD_BUSINESS_SYSTEM_CODE', 'businessSystemCode'],
  ['INVOICE_CLOUD_DATA_PASSWORD', 'dataPassword'],
  ['INVOICE_CLOUD_TIMEOUT_MS', 'timeoutMs'],
  ['INVOICE_CLOUD_MAX_RPS', 'quota.requestsPerSecond'],
  ['INVOICE_CLOUD_FLEET_SIZE', 'quota.fleetSize'],
  ['INVOICE_CLOUD_CAPTURE_DIR', 'captureDir'],
  ['INVOICE_CLOUD_CONFIRM_PASSWORDS', 'confirmPasswords'],
  ['INVOICE_CLOUD_CONFIRM_PASSWORD', 'confirmPassword'],
  ['INVOICE_CLOUD_PROFILE', 'profileFile'],
];

/** A message of invoiceCloudConfigFromEnv in the tenants file's terms (the longest names first). */
function inFileTerms(message: string): string {
  let text = message;
  for (const [variable, field] of [...FIELD_OF_VARIABLE].sort((a, b) => b[0].length - a[0].length)) {
    text = text.replace(new RegExp(`\\b${variable}\\b`, 'g'), field);
  }
  return text;
}

/** Names an issue path as `tenants[1] ("acme").quota.fleetSize`. */
function describePath(path: PropertyKey[], raw: unknown): string {
  if (path[0] !== 'tenants' || typeof path[1] !== 'number') return path.map(String).join('.') || '(file)';
  const entry = (raw as { tenants?: unknown[] }).tenants?.[path[1]] as { id?: unknown } | undefined;
  const label = typeof entry?.id === 'string' ? ` ("${entry.id}")` : '';
  const rest = path.slice(2).map(String).join('.');
  return `tenants[${path[1]}]${label}${rest ? `.${rest}` : ''}`;
}

/** Validates tenants JSON already parsed; `source` names the file in messages. */
export function parseTenantsFile(raw: unknown, source: string): TenantsFile {
  const parsed = TenantsFile.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = zodErrorLines(parsed.error, (path) => describePath(path, raw));
  throw new TenantsFileError(`${source} is invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
}

/** Reads and validates the tenants file, without reading any secret (the CLI needs only the ids). */
export function readTenantsFile(file: string): TenantsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TenantsFileError(
      `cannot read the tenants file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new TenantsFileError(`the tenants file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseTenantsFile(raw, file);
}

function relativeTo(file: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(file), path);
}

/** The secret a reference names; the error names the reference, never a value. */
function readSecret(ref: SecretRef, file: string, env: NodeJS.ProcessEnv): string {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') throw new Error(`env var ${ref.env} is not set`);
    return value;
  }
  const path = relativeTo(file, ref.file);
  let value: string;
  try {
    value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new Error(
      `cannot read the file ${ref.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  if (value === '') throw new Error(`the file ${ref.file} is empty`);
  return value;
}

/**
 * The INVOICE_CLOUD_* variables that describe one tenant, secrets resolved. Nothing of the
 * process's own INVOICE_CLOUD_* settings (the default tenant's) leaks in; only NODE_ENV, and
 * INVOICE_CLOUD_FLEET_SIZE when the tenant's quota names no fleet size.
 */
export function tenantVariables(tenant: TenantEntry, file: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const label = `${file}: tenant "${tenant.id}"`;
  const secret = (field: string, ref: SecretRef) => {
    try {
      return readSecret(ref, file, env);
    } catch (error) {
      throw new TenantsFileError(`${label}: ${field}: ${(error as Error).message}`);
    }
  };
  const vars: Record<string, string | undefined> = {
    NODE_ENV: env.NODE_ENV,
    INVOICE_CLOUD_BASE_URL: tenant.baseUrl,
    INVOICE_CLOUD_GATEWAY_PATH: tenant.gatewayPath,
    INVOICE_CLOUD_APP_ID: tenant.appId,
    INVOICE_CLOUD_APP_SECRET: tenant.appSecret && secret('appSecret', tenant.appSecret),
    INVOICE_CLOUD_TENANT_ID: tenant.tenantId,
    INVOICE_CLOUD_ACCOUNT_ID: tenant.accountId,
    INVOICE_CLOUD_USER: tenant.user,
    INVOICE_CLOUD_USER_TYPE: tenant.userType,
    INVOICE_CLOUD_BUSINESS_SYSTEM_CODE: tenant.businessSystemCode,
    INVOICE_CLOUD_DATA_PASSWORD: tenant.dataPassword && secret('dataPassword', tenant.dataPassword),
    INVOICE_CLOUD_CONFIRM_PASSWORD: tenant.confirmPassword && secret('confirmPassword', tenant.confirmPassword),
    INVOICE_CLOUD_CONFIRM_PASSWORDS: tenant.confirmPasswords
      ? JSON.stringify(
          Object.fromEntries(
            Object.entries(tenant.confirmPasswords).map(([taxNo, ref]) => [
              taxNo,
              secret(`confirmPasswords.${taxNo}`, ref),
            ]),
          ),
        )
      : undefined,
    INVOICE_CLOUD_PROFILE: tenant.profileFile && relativeTo(file, tenant.profileFile),
    INVOICE_CLOUD_CAPTURE_DIR: tenant.captureDir && relativeTo(file, tenant.captureDir),
    INVOICE_CLOUD_TIMEOUT_MS: tenant.timeoutMs?.toString(),
    INVOICE_CLOUD_MAX_RPS: tenant.quota?.requestsPerSecond.toString(),
    INVOICE_CLOUD_FLEET_SIZE: tenant.quota
      ? (tenant.quota.fleetSize?.toString() ?? env.INVOICE_CLOUD_FLEET_SIZE)
      : undefined,
  };
  return Object.fromEntries(
    Object.entries(vars).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
}

/** One tenant's invoice-cloud configuration; errors name the file, the tenant and the field. */
export function tenantConfig(tenant: TenantEntry, file: string, env: NodeJS.ProcessEnv = process.env): TenantConfig {
  const variables = tenantVariables(tenant, file, env);
  try {
    return { id: tenant.id, invoiceCloud: invoiceCloudConfigFromEnv(variables) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new TenantsFileError(`${file}: tenant "${tenant.id}": ${inFileTerms(error.message)}`);
  }
}

/** Every tenant of the file, secrets read and settings checked. */
export function loadTenants(file: string, env: NodeJS.ProcessEnv = process.env): TenantConfig[] {
  return readTenantsFile(file).tenants.map((tenant) => tenantConfig(tenant, file, env));
}

/** The file INVOICE_CLOUD_TENANTS_FILE names, if any. */
export function tenantsFileFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[TENANTS_FILE_VARIABLE]?.trim() || undefined;
}

/** The tenants of INVOICE_CLOUD_TENANTS_FILE; none when it is not set. */
export function tenantsFromEnv(env: NodeJS.ProcessEnv = process.env): TenantConfig[] {
  const file = tenantsFileFromEnv(env);
  return file ? loadTenants(file, env) : [];
}
