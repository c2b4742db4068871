import assert from 'node:assert/strict';
import { scheduleOptionsFor } from '../../client/schedules.js';
import { RegistryEntry } from '../../config/registrySchema.js';
import type { LauncherInput } from '../../workflows/launcherContract.js';

/** One registry entry of a sample taxpayer with these `options`, parsed as the registry file is. */
export function sampleEntry(options: unknown) {
  return RegistryEntry.safeParse({
    taxNo: '91440300591872133B',
    name: '深圳示例科技有限公司',
    approvers: ['王会计'],
    schedule: { dayOfMonth: 3, hour: 9 },
    options,
  });
}

/** What the monthly schedule of that entry hands the launcher (the options must be valid). */
export function launcherArgs(options: unknown): LauncherInput {
  const parsed = sampleEntry(options);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  return (scheduleOptionsFor(parsed.data).action as unknown as { args: [LauncherInput] }).args[0];
}
