import assert from 'node:assert/strict';
import { confirmReadiness, generateReadiness, revokeReadiness } from '../rules/writeReadiness.js';

describe('rules/writeReadiness: what a statistic write does after reading the table', () => {
  it('generates from 01 or 22 only; waits while generating; a generated or confirmed table is done', () => {
    assert.equal(generateReadiness({ status: '01' }), 'send');
    assert.equal(generateReadiness({ status: '22' }), 'send');
    assert.equal(generateReadiness({ status: '21' }), 'wait');
    for (const status of ['02', '03', '04', '05']) assert.equal(generateReadiness({ status }), 'done', status);
    assert.equal(generateReadiness({ status: '24' }), 'unexpected');
  });

  it('revokes a generated table; a table not generated is done; a revoke being processed waits', () => {
    assert.equal(revokeReadiness({ status: '01' }), 'done');
    assert.equal(revokeReadiness({ status: '22' }), 'done');
    assert.equal(revokeReadiness({ status: '21' }), 'wait');
    assert.equal(revokeReadiness({ status: '02', revocable: true }), 'send');
    assert.equal(revokeReadiness({ status: '03' }), 'send', 'no flag said: the bureau decides');
    assert.equal(revokeReadiness({ status: '02', revocable: false }), 'wait');
    assert.equal(revokeReadiness({ status: '05' }), 'unexpected');
  });

  it('confirms 02 when allowed; 05 is done; 04, 21 or isAllowQrtj false wait; anything else is unexpected', () => {
    assert.equal(confirmReadiness({ status: '02', confirmable: true }), 'send');
    assert.equal(confirmReadiness({ status: '02' }), 'send');
    assert.equal(confirmReadiness({ status: '05' }), 'done');
    assert.equal(confirmReadiness({ status: '02', confirmable: false }), 'wait');
    assert.equal(confirmReadiness({ status: '04' }), 'wait');
    assert.equal(confirmReadiness({ status: '21' }), 'wait');
    for (const status of ['01', '22', '03', '25']) assert.equal(confirmReadiness({ status }), 'unexpected', status);
  });
});
