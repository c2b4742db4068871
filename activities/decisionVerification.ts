/**
 * Verifies a signed decision on the worker, where the public keys are (DECISION_VERIFY_KEYS) and
 * node:crypto is available. MonthlyDeductionWorkflow runs it as a local activity from the
 * approve / reject Update handler, before the decision is taken (docs/decision-signing.md): its
 * answer is recorded in history, so a replay never verifies again and a retired key never breaks
 * one.
 */
import { log } from '@temporalio/activity';
import type { KeyObject } from 'node:crypto';
import {
  DecisionKeyError,
  parseVerifyKeys,
  verifyDecision,
  type DecisionFields,
  type DecisionSignature,
  type Verification,
} from '../security/decisionSigning.js';

export interface VerifyDecisionInput {
  fields: DecisionFields;
  signature: DecisionSignature;
}

export interface DecisionActivityOptions {
  /** The keys (DECISION_VERIFY_KEYS' JSON, or parsed); default: DECISION_VERIFY_KEYS of `env`, read at each call. */
  verifyKeys?: string | ReadonlyMap<string, KeyObject>;
  env?: NodeJS.ProcessEnv;
}

export function createDecisionActivities(options: DecisionActivityOptions = {}) {
  const env = options.env ?? process.env;
  let cached: { json: string; keys: ReadonlyMap<string, KeyObject> } | undefined;

  /** The keys, or why there are none: a worker without them refuses every signed decision. */
  function keys(): ReadonlyMap<string, KeyObject> | string {
    if (options.verifyKeys !== undefined && typeof options.verifyKeys !== 'string') return options.verifyKeys;
    const json = options.verifyKeys ?? env.DECISION_VERIFY_KEYS;
    if (json === undefined || json.trim() === '') {
      return 'this worker has no DECISION_VERIFY_KEYS: it cannot verify signed decisions';
    }
    if (cached?.json !== json) cached = { json, keys: parseVerifyKeys(json) };
    return cached.keys;
  }

  return {
    async verifyDecisionSignature(input: VerifyDecisionInput): Promise<Verification> {
      let known: ReadonlyMap<string, KeyObject> | string;
      try {
        known = keys();
      } catch (error) {
        if (!(error instanceof DecisionKeyError)) throw error;
        log.error('DECISION_VERIFY_KEYS is not valid; signed decisions are refused', { problem: error.message });
        return { valid: false, reason: `the worker's verification keys are not valid: ${error.message}` };
      }
      if (typeof known === 'string') return { valid: false, reason: known };
      return verifyDecision(known, input.fields, input.signature);
    },
  };
}

export type DecisionActivities = ReturnType<typeof createDecisionActivities>;
