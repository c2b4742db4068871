/**
 * The tenants file (docs/tenants.md): the invoice-cloud tenants one worker fleet serves beside the
 * tenant of its INVOICE_CLOUD_* environment. Each entry names where the tenant's invoice cloud is,
 * who we are there, its protocol profile and its quota; secrets are references to an environment
 * variable or a file, never values, so the file can be kept with the deployment's configuration.
 */
import { z } from 'zod';
import { TaxNo } from '../protocol/taxNo.js';
import { describeZodError } from '../protocol/zodErrors.js';
import { TenantId } from '../workflows/contract.js';

const PLAIN_SECRET =
  'a secret is never written in the tenants file: give { "env": "VARIABLE" } (read from the worker\'s environment) or { "file": "path" } (read from a file, relative to the tenants file) instead';

const EnvRef = z
  .object({
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env must name an environment variable, e.g. ACME_APP_SECRET'),
  })
  .strict();
const FileRef = z.object({ file: z.string().min(1, 'file must name a file') }).strict();
export type SecretRef = z.output<typeof EnvRef> | z.output<typeof FileRef>;

/** Where a secret is read from: `{ "env": "NAME" }` or `{ "file": "path" }`; a plain string is refused. */
export const SecretRef = z.unknown().transform((value, ctx): SecretRef => {
  if (typeof value === 'string') {
    ctx.addIssue({ code: 'custom', message: PLAIN_SECRET });
    return z.NEVER;
  }
  const shape = value !== null && typeof value === 'object' && 'file' in value ? FileRef : EnvRef;
  const parsed = shape.safeParse(value);
  if (parsed.success) return parsed.data;
  const detail = describeZodError(parsed.error, '');
  ctx.addIssue({
    code: 'custom',
    message: `must be { "env": "VARIABLE" } or { "file": "path" } (${detail})`,
  });
  return z.NEVER;
});

export const TenantQuota = z
  .object({
    /** The tenant's quota Q: gateway requests per second for all worker processes together. */
    requestsPerSecond: z.number().int('must be a whole number').positive(),
    /** N, the most worker processes running at once; default INVOICE_CLOUD_FLEET_SIZE (or 1). */
    fleetSize: z.number().int('must be a whole number').positive().optional(),
  })
  .strict();

export const TenantEntry = z
  .object({
    id: TenantId,
    /** The invoice cloud's URL: https, or http on loopback for a sandbox (demo values fill the rest). */
    baseUrl: z.url('must be a URL'),
    gatewayPath: z.string().startsWith('/', 'must start with "/"').optional(),
    appId: z.string().min(1).optional(),
    appSecret: SecretRef.optional(),
    /** Kingdee's tenant id (tenantid in the token call), not this file's `id`. */
    tenantId: z.string().min(1).optional(),
    accountId: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    userType: z.enum(['Mobile', 'UserName']).optional(),
    businessSystemCode: z.string().min(1).optional(),
    /** Set when the tenant encrypts `data` with AES-128-GCM. */
    dataPassword: SecretRef.optional(),
    /** Bureau confirmation password for any taxNo not in confirmPasswords. */
    confirmPassword: SecretRef.optional(),
    confirmPasswords: z.record(TaxNo, SecretRef).optional(),
    /** The tenant's protocol profile (protocol/profile.ts), relative to the tenants file. */
    profileFile: z.string().min(1).optional(),
    timeoutMs: z.number().int().positive().optional(),
    /** Redacted captures of every call of this tenant, relative to the tenants file. */
    captureDir: z.string().min(1).optional(),
    quota: TenantQuota.optional(),
  })
  .strict();
export type TenantEntry = z.output<typeof TenantEntry>;

export const TenantsFile = z
  .object({ tenants: z.array(TenantEntry) })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.tenants.forEach((tenant, index) => {
      const first = seen.get(tenant.id);
      if (first === undefined) seen.set(tenant.id, index);
      else
        ctx.addIssue({
          code: 'custom',
          path: ['tenants', index, 'id'],
          message: `duplicate tenant id "${tenant.id}" (also tenants[${first}])`,
        });
    });
  });
export type TenantsFile = z.output<typeof TenantsFile>;
