import assert from 'node:assert/strict';
import { workflowTaskSlotsFromEnv } from '../workers/createWorker.js';
import { workerTuner } from '../workers/quotaSlots.js';

describe('workflow task slots', () => {
  it('default to 10 and take WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', () => {
    assert.equal(workflowTaskSlotsFromEnv({}), 10);
    assert.equal(workflowTaskSlotsFromEnv({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: ' 4 ' }), 4);
  });

  it('refuse a value that is not a whole number of at least 2, naming the variable', () => {
    for (const bad of ['1', '0', '2.5', 'ten', '-3']) {
      assert.throws(
        () => workflowTaskSlotsFromEnv({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: bad }),
        new RegExp(`WORKER_MAX_CONCURRENT_WORKFLOW_TASKS=${bad}: must be a whole number of at least 2`),
      );
    }
  });

  it('reach the worker as its tuner: the workflow slots given, fixed activity slots without a quota', () => {
    const tuner = workerTuner(7) as Record<'workflowTaskSlotSupplier' | 'activityTaskSlotSupplier', unknown>;
    assert.deepEqual(tuner.workflowTaskSlotSupplier, { type: 'fixed-size', numSlots: 7 });
    assert.deepEqual(tuner.activityTaskSlotSupplier, { type: 'fixed-size', numSlots: 100 });
  });
});
