import type { PlannedVersusBureau } from './contract.js';

/** "计划 planned 12 (tax 345.67) / 税局 bureau 12 (tax 345.67): 一致 agrees" for people to read. */
export function plannedVersusBureauText(p: PlannedVersusBureau): string {
  const planned = `${p.planned.count}${p.planned.tax !== undefined ? ` (tax ${p.planned.tax})` : ''}`;
  const verdict = p.agrees ? '一致 agrees' : '不一致 DISAGREES';
  return `计划 planned ${planned} / 税局 bureau ${p.bureau.count} (tax ${p.bureau.tax}): ${verdict}`;
}
