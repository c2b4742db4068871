/**
 * Temporal Schedules for the taxpayer registry: one schedule per taxpayer (`deduction-schedule-<taxNo>`),
 * a calendar spec in Asia/Shanghai time with jitter, running ScheduledDeductionLauncher.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import type { RegistryEntry, TaxpayerRegistry } from '../config/registrySchema.js';
import { BUREAU_TIME_ZONE } from '../protocol/period.js';
import { TASK_QUEUE, TaxNoSearchAttribute } from '../workflows/contract.js';
import {
  LAUNCHER_WORKFLOW_TYPE,
  SCHEDULE_ID_PREFIX,
  deductionScheduleId,
  type LauncherInput,
} from '../workflows/launcherContract.js';
import { checkTaxNo, DeductionNotFoundError } from './deductions.js';
import { entryFingerprint } from './registry.js';

export interface ApplyReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
}

function launcherInput(entry: RegistryEntry): LauncherInput {
  return {
    taxNo: entry.taxNo,
    ...(entry.tenant ? { tenant: entry.tenant } : {}),
    approvers: entry.approvers,
    ...(entry.options.invoiceTypes ? { invoiceTypes: entry.options.invoiceTypes } : {}),
    ...(entry.options.batchSize ? { batchSize: entry.options.batchSize } : {}),
    ...(entry.options.poolFilter ? { poolFilter: entry.options.poolFilter } : {}),
    ...(entry.options.outageLimitHours ? { outageLimitHours: entry.options.outageLimitHours } : {}),
    ...(entry.options.candidateSource ? { candidateSource: { kind: entry.options.candidateSource } } : {}),
    ...(entry.options.decisionPolicy ? { decisionPolicy: entry.options.decisionPolicy } : {}),
    ...(entry.options.reminderHoursBeforeDeadline || entry.options.notificationChannel
      ? {
          notifications: {
            channel: entry.options.notificationChannel ?? 'default',
            remindHoursBeforeDeadline: entry.options.reminderHoursBeforeDeadline ?? [],
          },
        }
      : {}),
  };
}

/** Paused in the registry, or by its source: an invoices file is given by hand each month. */
function scheduleState(entry: RegistryEntry): { paused: boolean; note?: string } {
  if (entry.options.candidateSource === 'invoices-file') {
    return {
      paused: true,
      note: 'candidates from an invoices file: start each month with `start --invoices-file`',
    };
  }
  return { paused: entry.paused, note: entry.paused ? 'paused in the taxpayer registry' : undefined };
}

/** The schedule for one registry entry (everything but its id comes from the entry). */
export function scheduleOptionsFor(entry: RegistryEntry): ScheduleOptions {
  const { dayOfMonth, hour, minute, jitterMinutes } = entry.schedule;
  return {
    scheduleId: deductionScheduleId(entry.taxNo),
    spec: {
      calendars: [{ dayOfMonth, hour, minute, comment: `${entry.name}: monthly deduction 每月抵扣勾选` }],
      timezone: BUREAU_TIME_ZONE,
      ...(jitterMinutes > 0 ? { jitter: `${jitterMinutes} minutes` } : {}),
    },
    action: {
      type: 'startWorkflow',
      workflowType: LAUNCHER_WORKFLOW_TYPE,
      workflowId: `deduction-launch-${entry.taxNo}`,
      taskQueue: TASK_QUEUE,
      args: [launcherInput(entry)],
      memo: { registryFingerprint: entryFingerprint(entry), name: entry.name, approvers: entry.approvers },
      typedSearchAttributes: [{ key: TaxNoSearchAttribute, value: entry.taxNo }],
      staticSummary: `Monthly deduction launcher 每月抵扣启动 ${entry.name} ${entry.taxNo}`,
    },
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
    state: scheduleState(entry),
    memo: { name: entry.name, approvers: entry.approvers },
  };
}

function currentFingerprint(description: ScheduleDescription): string | undefined {
  const memo = description.action.type === 'startWorkflow' ? description.action.memo : undefined;
  return typeof memo?.registryFingerprint === 'string' ? memo.registryFingerprint : undefined;
}

/** Ids of the schedules this project owns (by prefix), as visibility knows them. */
export async function ourScheduleIds(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.scheduleId.startsWith(SCHEDULE_ID_PREFIX)) ids.push(summary.scheduleId);
  }
  return ids.sort();
}

/**
 * Makes Temporal's schedules match the registry: creates missing ones, updates changed ones,
 * deletes ours that the registry no longer names. Schedules of other prefixes are never touched.
 */
export async function applySchedules(
  client: Client,
  registry: TaxpayerRegistry,
  opts: { dryRun?: boolean } = {},
): Promise<ApplyReport> {
  const report: ApplyReport = { created: [], updated: [], unchanged: [], deleted: [] };
  const wanted = new Set<string>();
  for (const entry of registry.taxpayers) {
    const options = scheduleOptionsFor(entry);
    wanted.add(options.scheduleId);
    const handle = client.schedule.getHandle(options.scheduleId);
    let description: ScheduleDescription | undefined;
    try {
      description = await handle.describe();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
    if (!description) {
      if (!opts.dryRun) {
        try {
          await client.schedule.create(options);
        } catch (err) {
          if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        }
      }
      report.created.push(options.scheduleId);
    } else if (currentFingerprint(description) !== entryFingerprint(entry)) {
      if (!opts.dryRun) {
        await handle.update(() => ({
          spec: options.spec,
          action: options.action,
          policies: options.policies,
          state: { paused: entry.paused, note: options.state?.note },
        }));
      }
      report.updated.push(options.scheduleId);
    } else {
      report.unchanged.push(options.scheduleId);
    }
  }
  for (const id of await ourScheduleIds(client)) {
    if (wanted.has(id)) continue;
    if (!opts.dryRun) {
      try {
        await client.schedule.getHandle(id).delete();
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
    }
    report.deleted.push(id);
  }
  return report;
}

export interface ScheduleRow {
  scheduleId: string;
  taxNo: string;
  name?: string;
  paused: boolean;
  note?: string;
  nextRuns: Date[];
  recentRuns: { scheduledAt: Date; workflowId: string }[];
}

function rowFrom(description: ScheduleDescription): ScheduleRow {
  const memo = description.memo ?? {};
  return {
    scheduleId: description.scheduleId,
    taxNo: description.scheduleId.slice(SCHEDULE_ID_PREFIX.length),
    ...(typeof memo.name === 'string' ? { name: memo.name } : {}),
    paused: description.state.paused,
    ...(description.state.note ? { note: description.state.note } : {}),
    nextRuns: description.info.nextActionTimes.slice(0, 3),
    recentRuns: description.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt,
      workflowId: a.action.workflow.workflowId,
    })),
  };
}

/** Our schedules with their next and recent runs. */
export async function listSchedules(client: Client): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for (const id of await ourScheduleIds(client)) {
    try {
      rows.push(rowFrom(await client.schedule.getHandle(id).describe()));
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err; // deleted since listed
    }
  }
  return rows;
}

async function withSchedule<T>(client: Client, taxNo: string, fn: (id: string) => Promise<T>): Promise<T> {
  checkTaxNo(taxNo);
  const id = deductionScheduleId(taxNo);
  try {
    return await fn(id);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new DeductionNotFoundError(
        `No schedule ${id} for taxNo ${taxNo}. Add the taxpayer to the registry and run: schedules apply`,
      );
    }
    throw err;
  }
}

export function describeSchedule(client: Client, taxNo: string): Promise<ScheduleRow> {
  return withSchedule(client, taxNo, async (id) => rowFrom(await client.schedule.getHandle(id).describe()));
}

export function pauseSchedule(client: Client, taxNo: string, note: string): Promise<void> {
  return withSchedule(client, taxNo, (id) => client.schedule.getHandle(id).pause(note));
}

export function unpauseSchedule(client: Client, taxNo: string, note: string): Promise<void> {
  return withSchedule(client, taxNo, (id) => client.schedule.getHandle(id).unpause(note));
}

/** Starts the launcher now; it derives the period from now and starts the month only once. */
export function triggerSchedule(client: Client, taxNo: string): Promise<void> {
  return withSchedule(client, taxNo, (id) => client.schedule.getHandle(id).trigger('ALLOW_ALL'));
}

/** Runs the launcher for every scheduled time in [start, end), as if those times were now. */
export function backfillSchedule(client: Client, taxNo: string, start: Date, end: Date): Promise<void> {
  return withSchedule(client, taxNo, (id) =>
    client.schedule.getHandle(id).backfill({ start, end, overlap: 'ALLOW_ALL' }),
  );
}
