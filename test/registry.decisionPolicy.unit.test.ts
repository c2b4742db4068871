import assert from 'node:assert/strict';
import { scheduleOptionsFor } from '../client/schedules.js';
import { RegistryEntry } from '../config/registrySchema.js';
import { LauncherInput } from '../workflows/launcherContract.js';
import { MonthlyDeductionInput } from '../workflows/contract.js';

describe('decisionPolicy: in the registry, the schedule, the launcher and the month', () => {
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

  it('carries a signed policy into the monthly schedule, and nothing when it is not set', () => {
    assert.equal(launcherArgs({ decisionPolicy: 'signed' }).decisionPolicy, 'signed');
    assert.equal(launcherArgs({ decisionPolicy: 'unsigned' }).decisionPolicy, 'unsigned');
    assert.equal('decisionPolicy' in launcherArgs({}), false);
    assert.equal(LauncherInput.parse(launcherArgs({ decisionPolicy: 'signed' })).decisionPolicy, 'signed');
  });

  it('names the registry field of an unknown policy', () => {
    const parsed = entry({ decisionPolicy: 'sometimes' });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ['options', 'decisionPolicy']);
  });

  it('a month without a policy is unsigned (months started before it existed too)', () => {
    const base = { taxNo: '91440300591872133B', taxPeriod: '202611' };
    assert.equal(MonthlyDeductionInput.parse(base).decisionPolicy, 'unsigned');
    assert.equal(MonthlyDeductionInput.parse({ ...base, decisionPolicy: 'signed' }).decisionPolicy, 'signed');
    assert.equal(MonthlyDeductionInput.safeParse({ ...base, decisionPolicy: 'maybe' }).success, false);
  });
});
