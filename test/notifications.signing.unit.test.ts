import assert from 'node:assert/strict';
import { dingtalkSignature, dingtalkSignedUrl, feishuSignature } from '../activities/notices/signing.js';

/**
 * The robots' signatures against values computed apart from this code, with Python's hmac and
 * base64 following the platforms' samples (docs/notification-channels.md): a change to the
 * signing code that a shared mistake in the sandbox's check could hide still fails here.
 */
describe('robot request signatures (fixed vectors)', () => {
  it('DingTalk: base64(HMAC-SHA256(secret, "timestamp\\nsecret")), url-encoded on the URL', () => {
    assert.equal(dingtalkSignature('this is secret', 1577262236757), 'hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=');
    assert.equal(
      dingtalkSignedUrl('https://oapi.example.test/robot/send?access_token=abc', 'this is secret', 1577262236757),
      'https://oapi.example.test/robot/send?access_token=abc&timestamp=1577262236757' +
        '&sign=hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D',
    );
  });

  it('Feishu: base64(HMAC-SHA256(key "timestamp\\nsecret", empty message))', () => {
    assert.equal(feishuSignature('this is secret', 1599360473), '/eYKrXQBzTjUZJ3s6NX16VxGbTwmK7AEs8/FnvC1CSw=');
  });
});
