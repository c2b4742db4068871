import type { VersioningBehavior } from '@temporalio/common';
import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';

/**
 * What a versioned worker reports for a workflow type that declares no behaviour of its own
 * (workers/deployment.ts passes it as `defaultVersioningBehavior`).
 */
export const DEFAULT_VERSIONING_BEHAVIOR: VersioningBehavior = 'AUTO_UPGRADE';

/**
 * Each workflow type's behaviour under Worker Deployment Versioning (docs/deployment.md, "Which
 * workflows move to a new build"):
 * - a month waits weeks for its approver: it moves to each new build (AUTO_UPGRADE) and every
 *   change stays replay-safe with `patched()` (docs/versioning.md);
 * - a launcher run lasts seconds and an auto-accounting run hours: each finishes on the build it
 *   started on (PINNED).
 */
export const VERSIONING_BEHAVIORS = {
  MonthlyDeductionWorkflow: 'AUTO_UPGRADE',
  AutoAccountingWorkflow: 'PINNED',
  ScheduledDeductionLauncher: 'PINNED',
} as const satisfies Record<string, VersioningBehavior>;

export type WorkflowTypeName = keyof typeof VERSIONING_BEHAVIORS;

/**
 * Declares the behaviours above on the workflow functions. A type with the default behaviour
 * declares nothing, and the others declare theirs only in runs whose first workflow task ran on a
 * versioned worker: the server refuses a declared behaviour from an unversioned worker, so a run
 * that moves to one (versioning switched off) must not declare one on replay.
 */
export function declareVersioningBehaviors(
  workflows: Record<WorkflowTypeName, (...args: never[]) => Promise<unknown>>,
): void {
  for (const name of Object.keys(workflows) as WorkflowTypeName[]) {
    const behavior = VERSIONING_BEHAVIORS[name];
    if (behavior === DEFAULT_VERSIONING_BEHAVIOR) continue;
    setWorkflowOptions(() => (startedOnVersionedWorker() ? { versioningBehavior: behavior } : {}), workflows[name]);
  }
}

/**
 * Called once per run and worker, before the run's first activation: during a replay the version is
 * the one recorded for the first workflow task. An unversioned worker has no deployment name (the
 * SDK still gives it a build id of its own).
 */
function startedOnVersionedWorker(): boolean {
  return Boolean(workflowInfo().currentDeploymentVersion?.deploymentName);
}
