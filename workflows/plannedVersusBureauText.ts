import type { PlannedVersusBureau } from './contract.js';

/**
 * "计划 planned 12 (tax 345.67) / 税局 bureau 12 (tax 345.67); 01: 10/10; 03: 2/2: 一致 agrees" for
 * people to read (per category: planned/bureau counts).
 */
export function plannedVersusBureauText(p: PlannedVersusBureau): string {
  const planned = `${p.planned.count}${p.planned.tax !== undefined ? ` (tax ${p.planned.tax})` : ''}`;
  const verdict = p.agrees ? '一致 agrees' : '不一致 DISAGREES';
  const categories = (p.categories ?? []).map((c) => `; ${c.category}: ${c.planned.count}/${c.bureau.count}`).join('');
  return `计划 planned ${planned} / 税局 bureau ${p.bureau.count} (tax ${p.bureau.tax})${categories}: ${verdict}`;
}
