/**
 * A fake Temporal client for the inbox route tests: it implements only what the inbox and the
 * client helpers call (list, describe, query, signal, executeUpdate, result, getSystemInfo) and
 * records every decision sent, as a signal or as an Update.
 */
import assert from 'node:assert/strict';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';

export const KINGDEE = '91440300591872133B';
export const TRADING = '91440300MA5G9GK78Y';
export const OTHER = '91440300MA5DC6QB6G';
export const PERIOD = '202611';
export const wid = (taxNo: string, period = PERIOD) => `deduction-${taxNo}-${period}`;

export interface FakeRun {
  workflowId: string;
  runId: string;
  status: 'RUNNING' | 'COMPLETED' | 'TERMINATED';
  /** DeductionStage search attribute (what visibility sees, possibly stale). */
  stageAttribute: string;
  historyLength: number;
  /** The live answer of the `progress` query. */
  progress: Record<string, unknown>;
  /**
   * What visibility lists for the month: the ApprovalDeadline attribute and the approval memo.
   * Default: derived from `progress` as the workflow upserts them when it enters AWAITING_APPROVAL.
   */
  listed?: { approvalDeadline?: string; memo?: Record<string, unknown> };
  result?: Record<string, unknown>;
  startTime: Date;
  closeTime?: Date;
}

/** A decision that reached the workflow: a signal, or an Update (name approve / reject). */
export interface SentDecision {
  workflowId: string;
  runId?: string;
  name: string;
  args: unknown[];
}

export function progress(taxNo: string, stage: string, extra: Record<string, unknown> = {}) {
  return { taxNo, taxPeriod: PERIOD, stage, updatedAt: '2026-12-05T02:00:00.000Z', ...extra };
}

export const STATISTIC = {
  digest: '0badf00d',
  statisticStatus: '02',
  updateTime: '2026-12-05 10:00:00',
  deductionDeadline: '2026-12-15',
  items: [
    {
      invoiceType: 27,
      deductibleCount: 3,
      deductibleAmount: '300.00',
      deductibleTax: '39.00',
      notDeductibleCount: 0,
      notDeductibleAmount: '0.00',
      notDeductibleTax: '0.00',
    },
  ],
  deductibleCount: 3,
  deductibleAmount: '300.00',
  deductibleTax: '39.00',
};

export class FakeTemporal {
  readonly runs = new Map<string, FakeRun>();
  readonly decisions: SentDecision[] = [];
  readonly listQueries: string[] = [];
  /** Workflow ids whose handle was described or queried. */
  readonly handleCalls: string[] = [];
  systemInfo: () => Promise<unknown> = async () => ({ serverVersion: '1.x' });
  /** Thrown by the next signal or Update instead of delivering it. */
  decisionFailure?: Error;
  /** What the Update answers (default: accepted with the digest sent, or rejected). */
  updateOutcome?: (name: string, input: Record<string, unknown>) => unknown;

  /** Makes the next decision refused by the workflow's validator, as a DECISION_REFUSED failure. */
  refuseDecisions(reason: string, code: string): void {
    this.decisionFailure = new WorkflowUpdateFailedError(
      'Workflow Update failed',
      ApplicationFailure.create({ message: reason, type: 'DecisionRefused', nonRetryable: true, details: [code] }),
    );
  }

  add(run: Partial<FakeRun> & { taxNo: string; stage: string }): FakeRun {
    const full: FakeRun = {
      workflowId: wid(run.taxNo),
      runId: `run-${run.taxNo.slice(-4)}`,
      status: 'RUNNING',
      stageAttribute: run.stage,
      historyLength: 20,
      progress: progress(run.taxNo, run.stage),
      startTime: new Date('2026-12-01T00:00:00Z'),
      ...run,
    };
    this.runs.set(full.workflowId, full);
    return full;
  }

  client(): Client {
    const listed = (run: FakeRun) => {
      if (run.listed) return run.listed;
      const p = run.progress as {
        approvalDeadline?: string;
        statistic?: typeof STATISTIC;
        selection?: { failed: number };
        plannedVersusBureau?: { agrees: boolean };
      };
      const memo = p.statistic
        ? {
            approval: {
              deductibleCount: p.statistic.deductibleCount,
              deductibleAmount: p.statistic.deductibleAmount,
              deductibleTax: p.statistic.deductibleTax,
              statisticDigest: p.statistic.digest,
              failedInvoices: p.selection?.failed ?? 0,
              ...(p.plannedVersusBureau ? { plannedAgreesWithBureau: p.plannedVersusBureau.agrees } : {}),
            },
          }
        : undefined;
      return { approvalDeadline: p.approvalDeadline, memo };
    };
    const attributes = (run: FakeRun) => {
      const deadline = listed(run).approvalDeadline;
      const values: Record<string, string | Date | undefined> = {
        TaxNo: String(run.progress.taxNo),
        TaxPeriod: String(run.progress.taxPeriod),
        DeductionStage: run.stageAttribute,
        ApprovalDeadline: deadline ? new Date(deadline) : undefined,
      };
      return { get: (key: { name: string }) => values[key.name] };
    };
    const find = (workflowId: string, runId?: string) => {
      const run = this.runs.get(workflowId);
      if (!run || (runId !== undefined && run.runId !== runId)) {
        throw new WorkflowNotFoundError(`workflow not found: ${workflowId}`, workflowId, runId);
      }
      return run;
    };
    const fake = {
      connection: { withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn() },
      workflowService: { getSystemInfo: () => this.systemInfo() },
      workflow: {
        list: ({ query }: { query: string }) => {
          this.listQueries.push(query);
          const stage = /DeductionStage = "([A-Z_]+)"/.exec(query)?.[1];
          const closedOnly = query.includes('ExecutionStatus != "Running"');
          const runningOnly = query.includes('ExecutionStatus = "Running"');
          const rows = [...this.runs.values()].filter(
            (r) =>
              (!stage || r.stageAttribute === stage) &&
              (!closedOnly || r.status !== 'RUNNING') &&
              (!runningOnly || r.status === 'RUNNING'),
          );
          return (async function* () {
            for (const r of rows) {
              yield {
                workflowId: r.workflowId,
                runId: r.runId,
                status: { name: r.status },
                startTime: r.startTime,
                closeTime: r.closeTime,
                typedSearchAttributes: attributes(r),
                memo: listed(r).memo,
              };
            }
          })();
        },
        getHandle: (workflowId: string, runId?: string) => ({
          workflowId,
          describe: async () => {
            this.handleCalls.push(workflowId);
            const r = find(workflowId, runId);
            return {
              workflowId,
              runId: r.runId,
              status: { name: r.status },
              startTime: r.startTime,
              closeTime: r.closeTime,
              historyLength: r.historyLength,
              typedSearchAttributes: attributes(r),
            };
          },
          query: async (def: { name: string }) => {
            assert.equal(def.name, 'progress');
            this.handleCalls.push(workflowId);
            return find(workflowId, runId).progress;
          },
          result: async () => {
            const r = find(workflowId, runId);
            if (r.status === 'COMPLETED') return r.result;
            throw new Error(`Workflow execution ${r.status.toLowerCase()}`);
          },
          signal: async (def: { name: string }, ...args: unknown[]) => {
            find(workflowId, runId);
            if (this.decisionFailure) throw this.decisionFailure;
            this.decisions.push({ workflowId, runId, name: def.name, args });
          },
          executeUpdate: async (def: { name: string }, options: { args: unknown[] }) => {
            find(workflowId, runId);
            if (this.decisionFailure) throw this.decisionFailure;
            this.decisions.push({ workflowId, runId, name: def.name, args: options.args });
            const input = (options.args[0] ?? {}) as Record<string, unknown>;
            if (this.updateOutcome) return this.updateOutcome(def.name, input);
            return def.name === 'approve'
              ? { outcome: 'accepted', statisticDigest: input.statisticDigest }
              : { outcome: 'rejected' };
          },
        }),
      },
    };
    return fake as unknown as Client;
  }
}
