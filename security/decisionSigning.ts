/**
 * Signed approval decisions (docs/decision-signing.md). The inbox (or an operator's CLI) signs what
 * the approver decided with an Ed25519 private key; the worker verifies it against the public keys
 * it knows (DECISION_VERIFY_KEYS), by key id, so that keys can be rotated.
 *
 * Pure functions over node:crypto: no files, no environment, no clock (the caller names the time).
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** The message format; a verifier refuses anything signed for another format. */
export const DECISION_SIGNATURE_FORMAT = 'vat-deduction-decision/1';

/** Key ids name keys in DECISION_VERIFY_KEYS and in every signature. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface DecisionFields {
  taxNo: string;
  taxPeriod: string;
  /** The digest of the statistic table the approver was shown (progress.statistic.digest). */
  statisticDigest: string;
  decision: 'approve' | 'reject';
  /** Who decided: the logged-in identity (an account id, an OIDC subject or email). */
  approver: string;
  /** ISO 8601 instant the decision was signed. */
  signedAt: string;
}

/** What travels with a decision. */
export interface DecisionSignature {
  keyId: string;
  signedAt: string;
  /** The Ed25519 signature of decisionMessage(fields), base64 (64 bytes). */
  value: string;
}

export type Verification = { valid: true; keyId: string } | { valid: false; reason: string };

export class DecisionKeyError extends Error {
  override name = 'DecisionKeyError';
}

/**
 * The exact bytes signed: UTF-8 of a JSON array in a fixed order, so that no field can run into
 * another (an approver name may hold any character).
 */
export function decisionMessage(fields: DecisionFields): Buffer {
  return Buffer.from(
    JSON.stringify([
      DECISION_SIGNATURE_FORMAT,
      fields.taxNo,
      fields.taxPeriod,
      fields.statisticDigest,
      fields.decision,
      fields.approver,
      fields.signedAt,
    ]),
    'utf8',
  );
}

function ed25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new DecisionKeyError(`${what} is a ${key.asymmetricKeyType ?? key.type} key, not Ed25519`);
  }
  return key;
}

/** An Ed25519 private key from PEM (PKCS#8), checked. */
export function decisionSigningKey(privateKeyPem: string | KeyObject): KeyObject {
  if (typeof privateKeyPem !== 'string') return ed25519(privateKeyPem, 'the signing key');
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (error) {
    throw new DecisionKeyError(`the signing key is not a PEM private key: ${(error as Error).message}`);
  }
  return ed25519(key, 'the signing key');
}

/** An Ed25519 public key from PEM (SPKI), checked. */
export function decisionVerifyKey(publicKeyPem: string, keyId: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (error) {
    throw new DecisionKeyError(`key ${keyId} is not a PEM public key: ${(error as Error).message}`);
  }
  if (key.type !== 'public') throw new DecisionKeyError(`key ${keyId} must be a public key`);
  return ed25519(key, `key ${keyId}`);
}

/** The PEM public key of a private key (for DECISION_VERIFY_KEYS). */
export function publicKeyPemOf(privateKeyPem: string | KeyObject): string {
  return createPublicKey(decisionSigningKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * The verification keys from DECISION_VERIFY_KEYS' JSON: `{"<keyId>": "<PEM public key>", ...}`.
 * Throws DecisionKeyError naming the problem (never the keys).
 */
export function parseVerifyKeys(json: string): Map<string, KeyObject> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new DecisionKeyError('DECISION_VERIFY_KEYS must be a JSON object of key id to PEM public key');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new DecisionKeyError('DECISION_VERIFY_KEYS must be a JSON object of key id to PEM public key');
  }
  const keys = new Map<string, KeyObject>();
  for (const [keyId, pem] of Object.entries(raw)) {
    if (!KEY_ID_PATTERN.test(keyId)) {
      throw new DecisionKeyError(
        `DECISION_VERIFY_KEYS: key id "${keyId}" must be 1-64 letters, digits, ".", "_" or "-"`,
      );
    }
    if (typeof pem !== 'string') throw new DecisionKeyError(`DECISION_VERIFY_KEYS: key ${keyId} must be a PEM string`);
    keys.set(keyId, decisionVerifyKey(pem, keyId));
  }
  return keys;
}

/** Signs a decision. `fields.signedAt` is the time signed (the caller's clock). */
export function signDecision(
  privateKeyPem: string | KeyObject,
  keyId: string,
  fields: DecisionFields,
): DecisionSignature {
  if (!KEY_ID_PATTERN.test(keyId)) {
    throw new DecisionKeyError(`key id "${keyId}" must be 1-64 letters, digits, ".", "_" or "-"`);
  }
  const value = sign(null, decisionMessage(fields), decisionSigningKey(privateKeyPem)).toString('base64');
  return { keyId, signedAt: fields.signedAt, value };
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Whether `signature` is a valid signature of `fields` by a known key. `fields.signedAt` must be
 * the signature's own signedAt (the caller builds the fields from what it was sent).
 */
export function verifyDecision(
  keys: ReadonlyMap<string, KeyObject>,
  fields: DecisionFields,
  signature: DecisionSignature,
): Verification {
  if (signature.signedAt !== fields.signedAt) return { valid: false, reason: 'the signed time does not match' };
  const key = keys.get(signature.keyId);
  if (!key) return { valid: false, reason: `the worker knows no verification key ${signature.keyId}` };
  const bytes = BASE64.test(signature.value) ? Buffer.from(signature.value, 'base64') : undefined;
  if (!bytes || bytes.length !== 64) return { valid: false, reason: 'the signature is not 64 bytes of base64' };
  let ok = false;
  try {
    ok = verify(null, decisionMessage(fields), key, bytes);
  } catch {
    ok = false;
  }
  return ok
    ? { valid: true, keyId: signature.keyId }
    : {
        valid: false,
        reason: `the signature does not match the decision (key ${signature.keyId}): not signed by that key, or signed for another taxpayer, period, table, decision, approver or time`,
      };
}
