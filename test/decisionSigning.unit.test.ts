import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  decisionMessage,
  DecisionKeyError,
  parseVerifyKeys,
  publicKeyPemOf,
  signDecision,
  verifyDecision,
  type DecisionFields,
} from '../security/decisionSigning.js';

/**
 * Test vectors generated once with node:crypto and checked independently with OpenSSL 3
 * (`openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in msg.bin -sigfile sig.bin`).
 */
const KEY_A = {
  private: `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIIZboa4ahyfY0Adqw99bVKS6khZ1a34jb4hUO8NM1oaE
-----END PRIVATE KEY-----
`,
  public: `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAI5sIny6xQytMxNUajb+Jdnns+7pwSMfIiGjj+L6Voak=
-----END PUBLIC KEY-----
`,
};
const KEY_B = {
  private: `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIPmEwc7C0ZdQPe9VL5d9PN3FHrwZKi+OIvABIN9Oa4+G
-----END PRIVATE KEY-----
`,
  public: `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAaQe4I4ppJe2yFujCHvAHhpJVvM2lvRshFikRIU6W+UQ=
-----END PUBLIC KEY-----
`,
};
const FIELDS: DecisionFields = {
  taxNo: '91440300591872133B',
  taxPeriod: '202611',
  statisticDigest: '3f2a9c01',
  decision: 'approve',
  approver: '王会计',
  signedAt: '2026-12-05T02:30:00.000Z',
};
const VECTORS = [
  {
    key: KEY_A,
    fields: FIELDS,
    value: 'bcmmN3VoPqDsFBTr1UwG6+EPpSxXxLTJJpQbw0VeevsJjp+CJiDAl/8rZLtmUwYfszNpjsR7mOyiLiYxii3zAA==',
  },
  {
    key: KEY_A,
    fields: { ...FIELDS, decision: 'reject' as const },
    value: '/YGOGaKXBkc6T0aK5FmqVKoV8xCIMX9Y1OaxK5UzR8Mk3aRzviOev+RZHOzUBnK+Z5icrd3LgQwKeCKEwYbNCQ==',
  },
  {
    key: KEY_B,
    fields: FIELDS,
    value: '2BMzli473K2vXND1PrsvBsEjfGJNte3LSvYqpYeun2NfTo8Q+8Hmh0G9V/45GrIUs0vLN3vFg7kBv0QQ8TZzCg==',
  },
];
const KEY_ID = 'inbox-2026-12';

describe('Decision signing (security/decisionSigning.ts)', () => {
  const keys = parseVerifyKeys(JSON.stringify({ [KEY_ID]: KEY_A.public, 'inbox-2027-01': KEY_B.public }));

  it('signs the fixed message format: a JSON array of the format tag and the fields in order', () => {
    assert.equal(
      decisionMessage(FIELDS).toString('utf8'),
      '["vat-deduction-decision/1","91440300591872133B","202611","3f2a9c01","approve","王会计","2026-12-05T02:30:00.000Z"]',
    );
  });

  it('reproduces the test vectors (Ed25519 is deterministic) and verifies them', () => {
    for (const v of VECTORS) {
      const signature = signDecision(v.key.private, KEY_ID, v.fields);
      assert.deepEqual(signature, { keyId: KEY_ID, signedAt: v.fields.signedAt, value: v.value });
    }
    const [a, aReject] = VECTORS;
    assert.deepEqual(verifyDecision(keys, a!.fields, { keyId: KEY_ID, signedAt: FIELDS.signedAt, value: a!.value }), {
      valid: true,
      keyId: KEY_ID,
    });
    assert.deepEqual(
      verifyDecision(keys, aReject!.fields, { keyId: KEY_ID, signedAt: FIELDS.signedAt, value: aReject!.value }),
      { valid: true, keyId: KEY_ID },
    );
  });

  it('refuses a signature when any signed field differs', () => {
    const signature = signDecision(KEY_A.private, KEY_ID, FIELDS);
    const changes: Partial<DecisionFields>[] = [
      { taxNo: '91440300MA5G9GK78Y' },
      { taxPeriod: '202612' },
      { statisticDigest: '3f2a9c02' },
      { decision: 'reject' },
      { approver: '外部人员' },
      { approver: '王会计 ' },
    ];
    for (const change of changes) {
      const result = verifyDecision(keys, { ...FIELDS, ...change }, signature);
      assert.equal(result.valid, false, JSON.stringify(change));
      assert.match(!result.valid ? result.reason : '', /does not match the decision/);
    }
    const later = { ...FIELDS, signedAt: '2026-12-05T02:31:00.000Z' };
    assert.equal(verifyDecision(keys, later, { ...signature, signedAt: later.signedAt }).valid, false);
    assert.deepEqual(verifyDecision(keys, later, signature), {
      valid: false,
      reason: 'the signed time does not match',
    });
  });

  it('refuses a signature by another key, an unknown key id, and malformed bytes', () => {
    const byB = signDecision(KEY_B.private, KEY_ID, FIELDS); // B's signature under A's key id
    assert.equal(verifyDecision(keys, FIELDS, byB).valid, false);
    const rotated = signDecision(KEY_B.private, 'inbox-2027-01', FIELDS);
    assert.deepEqual(verifyDecision(keys, FIELDS, rotated), { valid: true, keyId: 'inbox-2027-01' });
    assert.deepEqual(verifyDecision(keys, FIELDS, { ...rotated, keyId: 'retired' }), {
      valid: false,
      reason: 'the worker knows no verification key retired',
    });
    for (const value of ['', 'not base64!', Buffer.alloc(63).toString('base64'), Buffer.alloc(64).toString('base64')]) {
      assert.equal(verifyDecision(keys, FIELDS, { keyId: KEY_ID, signedAt: FIELDS.signedAt, value }).valid, false);
    }
  });

  it('rotation: a signature stays valid for as long as its key id is listed', () => {
    const old = signDecision(KEY_A.private, KEY_ID, FIELDS);
    const afterRotation = parseVerifyKeys(JSON.stringify({ 'inbox-2027-01': KEY_B.public }));
    assert.equal(verifyDecision(afterRotation, FIELDS, old).valid, false);
    assert.equal(verifyDecision(keys, FIELDS, old).valid, true);
  });

  it('parses DECISION_VERIFY_KEYS strictly, naming the problem', () => {
    const rsaPublic = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    const cases: [string, RegExp][] = [
      ['not json', /must be a JSON object/],
      ['[]', /must be a JSON object/],
      [JSON.stringify({ 'bad id!': KEY_A.public }), /key id "bad id!"/],
      [JSON.stringify({ k: 42 }), /key k must be a PEM string/],
      [JSON.stringify({ k: 'garbage' }), /key k is not a PEM public key/],
      [JSON.stringify({ k: rsaPublic }), /key k is a rsa key, not Ed25519/],
    ];
    for (const [json, message] of cases) {
      assert.throws(
        () => parseVerifyKeys(json),
        (e: unknown) => e instanceof DecisionKeyError && message.test(e.message),
      );
    }
    assert.equal(parseVerifyKeys('{}').size, 0);
  });

  it('derives the public key of a signing key, and refuses a key id or a key that is not Ed25519', () => {
    assert.equal(publicKeyPemOf(KEY_A.private), KEY_A.public);
    assert.throws(() => signDecision(KEY_A.private, 'has space', FIELDS), /key id "has space"/);
    assert.throws(() => signDecision('garbage', KEY_ID, FIELDS), /not a PEM private key/);
  });
});
