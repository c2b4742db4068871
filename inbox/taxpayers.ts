/**
 * Taxpayer names and approvers for the inbox, from the registry (TAXPAYER_REGISTRY). The file is
 * read again when it changes; a change that makes it invalid keeps the last good version (logged).
 */
import { statSync } from 'node:fs';
import { loadRegistry } from '../client/registry.js';
import type { TaxpayerRegistry } from '../config/registrySchema.js';

export interface TaxpayerInfo {
  name?: string;
  /** Who may decide this taxpayer's months: account ids, `oidc:<sub>` or e-mail addresses. */
  approvers: readonly string[];
}

/** The taxpayers as they are now (called on every request). */
export type TaxpayerDirectory = () => ReadonlyMap<string, TaxpayerInfo>;

export function directoryOf(registry: TaxpayerRegistry): Map<string, TaxpayerInfo> {
  return new Map(registry.taxpayers.map((t) => [t.taxNo, { name: t.name, approvers: t.approvers }]));
}

export function fixedDirectory(entries: Iterable<[string, TaxpayerInfo]>): TaxpayerDirectory {
  const map = new Map(entries);
  return () => map;
}

export function registryDirectory(file: string, onError: (err: Error) => void = () => {}): TaxpayerDirectory {
  let stamp: string | undefined;
  let current = new Map<string, TaxpayerInfo>();
  return () => {
    let now = 'missing';
    try {
      const s = statSync(file);
      now = `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      // a registry that does not exist names no approvers: nobody can decide in the inbox
    }
    if (now !== stamp) {
      stamp = now;
      if (now === 'missing') current = new Map();
      else {
        try {
          current = directoryOf(loadRegistry(file));
        } catch (err) {
          onError(err as Error);
        }
      }
    }
    return current;
  };
}
