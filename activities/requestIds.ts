import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';

/**
 * A requestId that is the same every time this workflow makes this write, so a retried write is
 * recognised by the invoice cloud as the one it already accepted (docs/assumptions.md).
 */
export function stableRequestId(step: string, ...parts: string[]): string {
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (!workflowId) throw new Error('stableRequestId needs an activity run by a workflow');
  const digest = createHash('sha1')
    .update([workflowId, step, ...parts].join('\u0000'))
    .digest('hex');
  return `${step}-${digest.slice(0, 32)}`;
}
