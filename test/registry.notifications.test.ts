import assert from 'node:assert/strict';
import { scheduleOptionsFor } from '../client/schedules.js';
import { RegistryEntry } from '../config/registrySchema.js';
import type { LauncherInput } from '../workflows/launcherContract.js';

describe('notification settings per taxpayer in the registry', () => {
  const entry = (options: unknown) =>
    RegistryEntry.safeParse({
      taxNo: '91440300591872133B',
      name: '深圳示例科技有限公司',
      approvers: ['王会计'],
      schedule: { dayOfMonth: 3, hour: 9 },
      options,
    });
  const launcherArgs = (options: unknown) => {
    const parsed = entry(options);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    return (scheduleOptionsFor(parsed.data).action as unknown as { args: [LauncherInput] }).args[0];
  };

  it('carries the channel and the reminder hours into the monthly schedule', () => {
    const args = launcherArgs({ notificationChannel: 'finance-team', reminderHoursBeforeDeadline: [48, 2] });
    assert.deepEqual(args.notifications, { channel: 'finance-team', remindHoursBeforeDeadline: [48, 2] });
  });

  it('uses the default channel for reminders without a channel, and sends nothing without either', () => {
    assert.equal(launcherArgs({ reminderHoursBeforeDeadline: [24] }).notifications?.channel, 'default');
    assert.equal(launcherArgs({}).notifications, undefined);
  });

  it('names the registry field of a bad channel', () => {
    const parsed = entry({ notificationChannel: 'has spaces!' });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ['options', 'notificationChannel']);
  });
});
