/**
 * Makes a decision-signing key (docs/decision-signing.md):
 *
 *   npx tsx scripts/decisionKeys.ts --key-id inbox-2026-12 --out keys/inbox-2026-12.pem [--add-to verify-keys.json]
 *
 * Writes the Ed25519 private key (PKCS#8 PEM, mode 0600, never over an existing file) for the inbox
 * (INBOX_SIGNING_KEY_FILE) or an operator's CLI (--signing-key), and prints the workers'
 * DECISION_VERIFY_KEYS JSON with its public key added: to the keys of --add-to when given.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KEY_ID_PATTERN, parseVerifyKeys } from '../security/decisionSigning.js';

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: { 'key-id': { type: 'string' }, out: { type: 'string' }, 'add-to': { type: 'string' } },
});
const keyId = values['key-id'];
const out = values.out;
if (!keyId || !out) fail('usage: scripts/decisionKeys.ts --key-id <id> --out <private key file> [--add-to <json>]');
if (!KEY_ID_PATTERN.test(keyId)) fail(`--key-id ${keyId}: must be 1-64 letters, digits, ".", "_" or "-"`);

let known: Record<string, string> = {};
if (values['add-to']) {
  const json = readFileSync(values['add-to'], 'utf8');
  parseVerifyKeys(json); // refuses a file that is not a valid DECISION_VERIFY_KEYS
  known = JSON.parse(json) as Record<string, string>;
  if (known[keyId]) fail(`--add-to already has a key ${keyId}: key ids are never reused`);
}

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
try {
  writeFileSync(out, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
} catch (error) {
  fail(`--out ${out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
}
const verifyKeys = { ...known, [keyId]: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
process.stderr.write(`Wrote the private key ${out} (mode 0600). DECISION_VERIFY_KEYS for the workers:\n`);
process.stdout.write(`${JSON.stringify(verifyKeys)}\n`);
