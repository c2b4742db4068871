import assert from 'node:assert/strict';
import { launcherArgs, sampleEntry } from './support/registryEntries.js';
import { LauncherInput } from '../workflows/launcherContract.js';
import { MonthlyDeductionInput } from '../workflows/contract.js';

describe('decisionPolicy: in the registry, the schedule, the launcher and the month', () => {
  it('carries a signed policy into the monthly schedule, and nothing when it is not set', () => {
    assert.equal(launcherArgs({ decisionPolicy: 'signed' }).decisionPolicy, 'signed');
    assert.equal(launcherArgs({ decisionPolicy: 'unsigned' }).decisionPolicy, 'unsigned');
    assert.equal('decisionPolicy' in launcherArgs({}), false);
    assert.equal(LauncherInput.parse(launcherArgs({ decisionPolicy: 'signed' })).decisionPolicy, 'signed');
  });

  it('names the registry field of an unknown policy', () => {
    const parsed = sampleEntry({ decisionPolicy: 'sometimes' });
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
