/**
 * `--tenant <id>` (docs/tenants.md): which tenant of the tenants file serves a taxpayer. The CLI
 * checks the id against the same file the workers read (INVOICE_CLOUD_TENANTS_FILE), ids only:
 * it reads no secret, so it runs where the tenants' secrets are not.
 */
import { existsSync } from 'node:fs';
import { readTenantsFile, TENANTS_FILE_VARIABLE, tenantsFileFromEnv, TenantsFileError } from '../config/loadTenants.js';
import type { TaxpayerRegistry } from '../config/registrySchema.js';
import type { TenantEntry } from '../config/tenantsSchema.js';
import { TenantId } from '../workflows/contract.js';
import { loadRegistry } from './registry.js';

/** A tenant the CLI cannot accept (exit code 2). */
export class TenantOptionError extends Error {
  override name = 'TenantOptionError';
}

/** The tenants file's entry for `id`; the error names the ids it knows. */
export function knownTenant(
  id: string,
  env: NodeJS.ProcessEnv,
  option = '--tenant',
): { file: string; entry: TenantEntry } {
  const valid = TenantId.safeParse(id);
  if (!valid.success) throw new TenantOptionError(`${option} ${id}: ${valid.error.issues[0]?.message}`);
  const file = tenantsFileFromEnv(env);
  if (!file) {
    throw new TenantOptionError(
      `${option} ${id}: no tenants file to find it in: set ${TENANTS_FILE_VARIABLE} to the workers' tenants file (docs/tenants.md)`,
    );
  }
  let tenants: TenantEntry[];
  try {
    tenants = readTenantsFile(file).tenants;
  } catch (error) {
    if (error instanceof TenantsFileError) throw new TenantOptionError(error.message);
    throw error;
  }
  const entry = tenants.find((t) => t.id === id);
  if (!entry) {
    const known = tenants.length ? tenants.map((t) => `"${t.id}"`).join(', ') : 'none';
    throw new TenantOptionError(`${option} ${id}: unknown tenant; the tenants file ${file} names ${known}`);
  }
  return { file, entry };
}

/**
 * The tenant of a month started by hand: `--tenant`, or else the registry entry's. When both are
 * named they must agree: a taxpayer belongs to one invoice-cloud tenant.
 */
export function tenantForStart(
  taxNo: string,
  given: string | undefined,
  registryFile: string,
  env: NodeJS.ProcessEnv,
): { tenant?: string; source?: string } {
  const entry = existsSync(registryFile)
    ? loadRegistry(registryFile).taxpayers.find((t) => t.taxNo === taxNo)
    : undefined;
  if (given !== undefined && entry?.tenant !== undefined && entry.tenant !== given) {
    throw new TenantOptionError(
      `--tenant ${given}: the registry ${registryFile} has ${taxNo} on tenant "${entry.tenant}"; a taxpayer belongs to one tenant`,
    );
  }
  const tenant = given ?? entry?.tenant;
  if (tenant === undefined) return {};
  knownTenant(tenant, env);
  return { tenant, source: given !== undefined ? '--tenant' : registryFile };
}

/**
 * Every tenant a registry names is in the tenants file: checked before `schedules apply` writes
 * anything, so that no schedule starts months for a tenant no worker serves.
 */
export function checkRegistryTenants(registry: TaxpayerRegistry, registryFile: string, env: NodeJS.ProcessEnv): void {
  for (const entry of registry.taxpayers) {
    if (entry.tenant !== undefined) knownTenant(entry.tenant, env, `${registryFile}: taxpayer ${entry.taxNo}'s tenant`);
  }
}
