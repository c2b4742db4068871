/**
 * The demo tenant and months that `npm start` and `npm run cluster` both run: which taxpayers, which
 * period, how the sandbox is seeded, and how long to wait for a month to reach its decision point.
 */
import type { Client } from '@temporalio/client';
import { likelyCurrentPeriod } from '../protocol/period.js';
import { approvalDeadline } from '../rules/approvalDeadline.js';
import type { SandboxAdmin } from '../simulator/adminClient.js';
import { filingWindowContaining, filingWindowOf } from '../simulator/filingWindow.js';
import { DEMO_ACCOUNT_ID } from '../inbox/demoAccount.js';
import { progressQuery, type Progress } from '../workflows/contract.js';

/** Demo taxpayers of the sandbox tenant with soft-certificate mode on. */
export const DEMO_TAXPAYERS = ['91440300591872133B', '91440300MA5G9GK78Y'];
export const DEMO_NAMES: Record<string, string> = {
  '91440300591872133B': '深圳市金蝶示例科技有限公司',
  '91440300MA5G9GK78Y': '深圳市示例贸易有限公司',
};
/** Who may decide the demo months: the inbox's demo account, and the name the CLI examples use. */
export const DEMO_APPROVERS = [DEMO_ACCOUNT_ID, '王会计'];
const TERMINAL: readonly string[] = ['COMPLETED', 'REJECTED', 'EXPIRED', 'FAILED'];

/**
 * The demo's period: the one a person would be filing now, unless its approvals close within two
 * days (a demo started on the 14th would expire at once); then the current month, whose deadline
 * is weeks away (docs/testing.md).
 */
export function demoPeriod(now: Date): string {
  const likely = likelyCurrentPeriod(now);
  const closes = approvalDeadline(filingWindowOf(likely).deductionDeadline).getTime();
  return closes - now.getTime() > 2 * 86_400_000 ? likely : filingWindowContaining(now).period;
}

/** Seeds the sandbox's demo tenant for `taxPeriod` unless it already is; true when it seeded. */
export async function seedDemoTenant(admin: SandboxAdmin, taxPeriod: string): Promise<boolean> {
  const clock = filingWindowOf(taxPeriod).sandboxNow;
  const state = await admin.getTaxpayer(DEMO_TAXPAYERS[0]!).catch(() => undefined);
  if (state && state.taxPeriod === taxPeriod) return false;
  await admin.seedDemo({ taxPeriod, now: clock, invoicesPerTaxpayer: 40, seed: 2026 });
  await admin.setClock(clock);
  await admin.setTaskDelays({ selectMs: 3000, statisticMs: 3000, confirmMs: 3000 });
  return true;
}

/** Polls a month until it awaits approval or has ended (at most five minutes); undefined if neither. */
export async function waitForDecisionPoint(client: Client, workflowId: string): Promise<Progress | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  for (let i = 0; i < 600; i++) {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') {
      return { ...(await handle.query(progressQuery).catch(() => undefined)) } as Progress | undefined;
    }
    const progress = await handle.query(progressQuery).catch(() => undefined);
    if (progress && (progress.stage === 'AWAITING_APPROVAL' || TERMINAL.includes(progress.stage))) return progress;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

/** What to print about a demo month: its stage, its statistic and how to decide it. */
export function decisionLines(taxNo: string, taxPeriod: string, progress: Progress | undefined): string[] {
  const stage = progress?.stage ?? 'unknown';
  const lines = [`deduction-${taxNo}-${taxPeriod}: ${stage}`];
  if (stage === 'AWAITING_APPROVAL') {
    const s = progress?.statistic;
    if (s)
      lines.push(
        `  统计表 statistic: ${s.deductibleCount} invoices, amount ${s.deductibleAmount}, tax ${s.deductibleTax}`,
      );
    lines.push(`  approve: npm run cli -- approve --tax-no ${taxNo} --period ${taxPeriod} --approver "王会计"`);
    lines.push(
      `  reject:  npm run cli -- reject --tax-no ${taxNo} --period ${taxPeriod} --approver "王会计" --reason "..."`,
    );
  }
  return lines;
}
