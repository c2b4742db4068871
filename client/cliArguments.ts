/** Argument checks of the CLI: every value is validated before Temporal is contacted. */
import { z } from 'zod';
import { checkPeriod, checkStage, checkTaxNo } from './deductions.js';
import { bad } from './cliSupport.js';

export function validTaxNo(value: string): string {
  try {
    checkTaxNo(value, '--tax-no');
  } catch (err) {
    const upper = value.toUpperCase();
    const hint =
      upper !== value &&
      !(() => {
        try {
          checkTaxNo(upper);
          return false;
        } catch {
          return true;
        }
      })()
        ? ` (did you mean ${upper}? letters must be upper case)`
        : '';
    bad(`${(err as Error).message}${hint}`);
  }
  return value;
}

export function validPeriod(value: string, option: string): string {
  try {
    checkPeriod(value, option);
  } catch (err) {
    bad((err as Error).message);
  }
  return value;
}

export function validStage(value: string): string {
  try {
    checkStage(value, '--stage');
  } catch (err) {
    bad((err as Error).message);
  }
  return value;
}

export const IsoInstant = z.iso.datetime({ offset: true });
export function validInstant(value: string, option: string): string {
  if (!IsoInstant.safeParse(value).success || Number.isNaN(Date.parse(value))) {
    bad(`${option} ${value}: must be an ISO 8601 instant with an offset, e.g. 2026-12-14T00:00:00+08:00`);
  }
  return value;
}

/** Hours of bureau outage a month rides out before it fails (workflows/contract.ts outageLimitHours). */
export function validOutageHours(value: string, option: string): number {
  const hours = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(hours > 0) || hours > 24 * 62) {
    bad(`${option} ${value}: must be a number of hours above 0 and at most ${24 * 62}, e.g. 6 or 0.5`);
  }
  return hours;
}

export function validText(value: string | undefined, option: string, max: number): string {
  const trimmed = value?.trim() ?? '';
  if (!trimmed) bad(`${option}: must not be empty`);
  if (trimmed.length > max) bad(`${option}: at most ${max} characters, got ${trimmed.length}`);
  return trimmed;
}

export const Digest = /^[0-9a-f]{8}$/;
export function validDigest(value: string): string {
  if (!Digest.test(value))
    bad(`--digest ${value}: must be the 8 hex characters of the statistic digest, as status shows it`);
  return value;
}

/** --signing-key and --key-id, read and checked before connecting. */
