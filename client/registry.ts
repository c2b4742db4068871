/**
 * Reads the taxpayer registry file (config/taxpayers.example.json shows the format) and explains
 * every problem by entry and field.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TaxpayerRegistry, type RegistryEntry } from '../config/registrySchema.js';
import { zodErrorLines } from '../protocol/zodErrors.js';

/** Where the registry is read from when neither an option nor TAXPAYER_REGISTRY names a file. */
export const DEFAULT_REGISTRY_FILE = 'config/taxpayers.json';

/** The registry file is unreadable or invalid (CLI exit code 2). */
export class RegistryError extends Error {
  override name = 'RegistryError';
}

/** Names an issue path as `taxpayers[1] (91440300591872133B).schedule.hour`. */
function describePath(path: PropertyKey[], raw: unknown): string {
  if (path[0] !== 'taxpayers' || typeof path[1] !== 'number') return path.map(String).join('.') || '(file)';
  const entry = (raw as { taxpayers?: unknown[] }).taxpayers?.[path[1]] as { taxNo?: unknown; name?: unknown };
  const label = typeof entry?.name === 'string' ? entry.name : typeof entry?.taxNo === 'string' ? entry.taxNo : '';
  const rest = path.slice(2).map(String).join('.');
  return `taxpayers[${path[1]}]${label ? ` (${label})` : ''}${rest ? `.${rest}` : ''}`;
}

/** Validates registry JSON already parsed. */
export function parseRegistry(raw: unknown, source = 'registry'): TaxpayerRegistry {
  const parsed = TaxpayerRegistry.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = zodErrorLines(parsed.error, (path) => describePath(path, raw));
  throw new RegistryError(`${source} is invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
}

/** Reads and validates the registry file at `file`. */
export function loadRegistry(file: string): TaxpayerRegistry {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RegistryError(`cannot read the registry ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RegistryError(`the registry ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseRegistry(raw, file);
}

/** A short stable hash of an entry: a schedule whose fingerprint matches needs no update. */
export function entryFingerprint(entry: RegistryEntry): string {
  return createHash('sha256').update(JSON.stringify(entry)).digest('hex').slice(0, 16);
}
