import { Context } from '@temporalio/activity';
import { createHash, randomInt } from 'node:crypto';
import type { ProtocolProfile } from '../protocol/profile.js';

/**
 * The identity of one write of this workflow: the same for every resend of it, so a resend can be
 * recognised (docs/protocol.md: nothing says the cloud de-duplicates, so writes also read first).
 */
export function stableRequestId(step: string, ...parts: string[]): string {
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (!workflowId) throw new Error('stableRequestId needs an activity run by a workflow');
  return [workflowId, step, ...parts].join('\u0000');
}

/**
 * The requestId sent for an operation, in the documented style (digits): "stable-digits" derives
 * 16 digits from the identity (a resend repeats them); "timestamp" is the 13-digit millisecond
 * time and 3 random digits, new on every send.
 */
export function formatRequestId(style: ProtocolProfile['requestIdStyle'], identity: string, nowMs: number): string {
  if (style === 'timestamp') return `${nowMs}${String(randomInt(1000)).padStart(3, '0')}`;
  const digest = createHash('sha256').update(identity).digest();
  return (digest.readBigUInt64BE(0) % 10n ** 16n).toString().padStart(16, '0');
}
