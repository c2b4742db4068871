import { z } from 'zod';

// Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a 31-letter
// alphabet (no I, O, S, V, Z); the 18th is a mod-31 check character over the first 17.
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** Returns why `value` is not a valid unified social credit code, or undefined when it is. */
export function taxNoProblem(value: string): string | undefined {
  if (value.length !== 18) return `must be 18 characters, got ${value.length}`;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = ALPHABET.indexOf(value[i]!);
    if (v < 0) return `character ${i + 1} ('${value[i]}') is not allowed in a unified social credit code`;
    sum += v * WEIGHTS[i]!;
  }
  const expected = ALPHABET[(31 - (sum % 31)) % 31]!;
  if (value[17] !== expected) return `check character is '${value[17]}', expected '${expected}'`;
  return undefined;
}

export const TaxNo = z.string().superRefine((v, ctx) => {
  const problem = taxNoProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: `invalid taxNo ${JSON.stringify(v)}: ${problem}` });
});

/** Completes 17 characters into a valid unified social credit code (for test data and demos). */
export function withCheckCharacter(first17: string): string {
  if (first17.length !== 17) throw new Error(`need 17 characters, got ${first17.length}`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += ALPHABET.indexOf(first17[i]!) * WEIGHTS[i]!;
  return first17 + ALPHABET[(31 - (sum % 31)) % 31]!;
}
