import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { workflowBundle } from '../workers/createWorker.js';
import * as workflows from '../workflows/index.js';
import { installTestLogging } from './support/stack.js';
import { HISTORIES_DIR, readRecordedHistory } from './support/recordHistory.js';

/**
 * Determinism: histories recorded from real runs (RECORD_HISTORIES=1 npm test) replay against the
 * current workflow code. A change that would break running workflows fails here; guard it with
 * `patched()` (see docs/versioning.md).
 */
describe('Replay of recorded histories against the current workflow code', function () {
  this.timeout(120_000);
  const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json'));

  it('has recorded histories to replay, of every workflow type the worker registers', () => {
    assert.ok(files.length >= 5, `test/histories holds ${files.length} histories`);
    const recordedTypes = new Set(
      files.map(
        (file) =>
          readRecordedHistory(readFileSync(`${HISTORIES_DIR}${file}`, 'utf8')).events?.[0]
            ?.workflowExecutionStartedEventAttributes?.workflowType?.name,
      ),
    );
    const registered = Object.keys(workflows).filter(
      (name) => typeof workflows[name as keyof typeof workflows] === 'function',
    );
    assert.ok(registered.length >= 3, `${registered}`);
    for (const type of registered) assert.ok(recordedTypes.has(type), `no recorded history of ${type}`);
  });

  it('replays every recorded history without nondeterminism', async () => {
    installTestLogging();
    const histories = files.map((file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: readRecordedHistory(readFileSync(`${HISTORIES_DIR}${file}`, 'utf8')),
    }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.equal(replayed, files.length);
    assert.deepEqual(failures, []);
  });
});
