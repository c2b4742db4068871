/**
 * Who may decide a month started by hand (`start`): the `--approver` options, or else the
 * taxpayer's entry in the registry. A month is never started without an approver: nobody could
 * approve its statistic table, and before approvers were required anyone with access could.
 */
import { existsSync } from 'node:fs';
import type { DecisionPolicy } from '../workflows/contract.js';
import { loadRegistry, RegistryError } from './registry.js';

export interface StartApprovers {
  approvers: string[];
  /** Where they came from, for the operator: '--approver' or the registry file. */
  source: string;
  /** The registry entry's decision policy, when it names one. */
  decisionPolicy?: DecisionPolicy;
}

const MAX_APPROVERS = 50;

function noApprover(taxNo: string, why: string, registryFile: string): RegistryError {
  return new RegistryError(
    `${taxNo} has no approver (${why}): a month is started only with someone who may approve it. ` +
      `Name them with --approver <account id> (repeat it for several) or in the registry's "approvers" (${registryFile}).`,
  );
}

/** `given` are the trimmed, non-empty `--approver` values (the CLI checks each). */
export function approversForStart(taxNo: string, given: readonly string[], registryFile: string): StartApprovers {
  if (given.length > 0) {
    const approvers = [...new Set(given)];
    if (approvers.length > MAX_APPROVERS) {
      throw new RegistryError(`--approver: at most ${MAX_APPROVERS} approvers, got ${approvers.length}`);
    }
    return { approvers, source: '--approver' };
  }
  if (!existsSync(registryFile))
    throw noApprover(taxNo, `no --approver, and no registry at ${registryFile}`, registryFile);
  const entry = loadRegistry(registryFile).taxpayers.find((t) => t.taxNo === taxNo);
  if (!entry) throw noApprover(taxNo, `no --approver, and the registry has no entry for it`, registryFile);
  return {
    approvers: entry.approvers,
    source: registryFile,
    ...(entry.options.decisionPolicy ? { decisionPolicy: entry.options.decisionPolicy } : {}),
  };
}
