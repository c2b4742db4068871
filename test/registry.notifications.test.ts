import assert from 'node:assert/strict';
import { launcherArgs, sampleEntry } from './support/registryEntries.js';

describe('notification settings per taxpayer in the registry', () => {
  it('carries the channel and the reminder hours into the monthly schedule', () => {
    const args = launcherArgs({ notificationChannel: 'finance-team', reminderHoursBeforeDeadline: [48, 2] });
    assert.deepEqual(args.notifications, { channel: 'finance-team', remindHoursBeforeDeadline: [48, 2] });
  });

  it('uses the default channel for reminders without a channel, and sends nothing without either', () => {
    assert.equal(launcherArgs({ reminderHoursBeforeDeadline: [24] }).notifications?.channel, 'default');
    assert.equal(launcherArgs({}).notifications, undefined);
  });

  it('names the registry field of a bad channel', () => {
    const parsed = sampleEntry({ notificationChannel: 'has spaces!' });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ['options', 'notificationChannel']);
  });
});
