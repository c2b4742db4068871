import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Client } from '@temporalio/client';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import { createTemporalClient } from '../runtime/temporalConnection.js';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../workers/createWorker.js';
import { installTracing, type Tracing, workflowTracingSinks } from '../runtime/tracing.js';
import { TEST_APPROVERS } from './support/approvers.js';
import { TEST_WINDOW } from './support/calendar.js';
import { capturedLogLines } from './support/logSink.js';
import { startStack, type TestStack } from './support/stack.js';
import { waitForStage } from './support/workflows.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };
const WORKFLOW_TYPE = 'MonthlyDeductionWorkflow';

/**
 * One trace from the client's start call to the invoice cloud's HTTP request, on a real dev server,
 * the real sandbox and a worker wired as in production, spans caught by an in-memory exporter.
 */
describe('tracing: client → workflow → activity → HTTP call in one trace', function () {
  this.timeout(180_000);
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let stack: TestStack;
  let client: Client;
  let taxpayers: string[];
  let tracedWorkflowId: string;

  before(async () => {
    tracing = installTracing({ serviceName: 'tracing-test', spanProcessor: new SimpleSpanProcessor(exporter) });
    stack = await startStack();
    const seeded = await stack.admin.seedDemo({
      taxPeriod: PERIOD,
      now: SANDBOX_NOW,
      invoicesPerTaxpayer: 20,
      seed: 7,
    });
    taxpayers = seeded.taxpayers.map((t) => t.taxNo);
    assert.ok(taxpayers.length >= 2, 'the demo tenant has two taxpayers');
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
    // The client the CLI uses, with its tracing interceptors (runtime/temporalConnection.ts).
    client = await createTemporalClient({ address: stack.temporal.address, namespace: stack.temporal.namespace });
  });
  after(async () => {
    await client?.connection.close();
    await stack?.stop();
    await tracing?.shutdown();
  });

  const spans = () => exporter.getFinishedSpans();
  const byId = () => new Map(spans().map((s) => [s.spanContext().spanId, s]));
  const parentOf = (span: ReadableSpan, index: Map<string, ReadableSpan>) =>
    span.parentSpanId ? index.get(span.parentSpanId) : undefined;
  const workflowIdOf = (span: ReadableSpan) => span.attributes.workflowId ?? span.attributes.temporalWorkflowId;

  it('one trace spans the start call, the workflow run, an activity and its HTTP request', async () => {
    const taxNo = taxpayers[0]!;
    const { handle } = await startMonthlyDeduction(client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
    });
    await waitForStage(handle, 'AWAITING_APPROVAL');
    await approve(client, taxNo, PERIOD, {
      approver: TEST_APPROVERS[0]!,
      statisticDigest: (await statisticAwaitingApproval(client, taxNo, PERIOD)).digest,
    });
    await handle.result();
    tracedWorkflowId = handle.workflowId;

    const index = byId();
    const start = spans().find((s) => s.name === `StartWorkflow:${WORKFLOW_TYPE}`);
    assert.ok(start, `the client's start call has a span: ${spans().map((s) => s.name)}`);
    assert.equal(start.parentSpanId, undefined, 'the start call is the root of the trace');
    const traceId = start.spanContext().traceId;
    const trace = spans().filter((s) => s.spanContext().traceId === traceId);

    const run = trace.find((s) => s.name === `RunWorkflow:${WORKFLOW_TYPE}`);
    assert.ok(run, "the workflow run is in the start call's trace");
    assert.equal(parentOf(run, index), start);
    assert.equal(workflowIdOf(run), handle.workflowId);

    // Every request the month's activities sent, each under its activity, under the workflow.
    const requests = trace.filter((s) => s.name.startsWith('invoice-cloud '));
    assert.ok(requests.length >= 5, `the month's requests are in the trace (${requests.length})`);
    const interfaces = new Set<string>();
    for (const request of requests) {
      assert.equal(request.kind, SpanKind.CLIENT);
      const code = request.attributes['invoice_cloud.interface'];
      assert.equal(typeof code, 'string');
      assert.equal(request.name, `invoice-cloud ${code}`);
      interfaces.add(code as string);
      assert.equal(request.attributes['http.response.status_code'], 200);
      const activity = parentOf(request, index);
      assert.match(activity?.name ?? '', /^RunActivity:/, `${request.name} runs inside an activity`);
      const scheduled = parentOf(activity!, index);
      assert.equal(scheduled?.name, activity!.name.replace('RunActivity:', 'StartActivity:'));
      assert.equal(parentOf(scheduled!, index), run, 'the activity was scheduled by the workflow run');
    }
    assert.ok(interfaces.size >= 3, `several interfaces are traced: ${[...interfaces]}`);
    // The activities' log lines name the trace and their span.
    const activityLines = capturedLogLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.trace_id === traceId && typeof line.activityType === 'string');
    assert.ok(activityLines.length > 0, 'activity log lines carry the trace id');
    assert.ok(activityLines.every((line) => index.get(line.span_id as string)?.name.startsWith('RunActivity:')));
  });

  it('the traced run replays without nondeterminism through the bundle with the tracing interceptors', async () => {
    const history = await client.workflow.getHandle(tracedWorkflowId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    assert.ok(started?.header?.fields?.['_tracer-data'], 'the start carried the trace context');
    await Worker.runReplayHistory(
      { workflowBundle: await workflowBundle(), sinks: workflowTracingSinks() },
      history,
      tracedWorkflowId,
    );
  });

  it('spans carry the interface code, never a secret, a token or a payload', () => {
    const { appSecret } = stack.invoiceCloud;
    for (const span of spans().filter((s) => s.name.startsWith('invoice-cloud '))) {
      assert.deepEqual(Object.keys(span.attributes).sort(), [
        'http.request.method',
        'http.response.status_code',
        'invoice_cloud.interface',
        'url.path',
      ]);
      const text = JSON.stringify(span.attributes) + JSON.stringify(span.events) + JSON.stringify(span.status);
      assert.ok(!text.includes(appSecret), `${span.name} shows no app secret`);
      assert.ok(!/access_token|taxNo|invoice(No|Code)/i.test(text), `${span.name}: ${text}`);
    }
  });

  it('a month started without a trace records no workflow spans (the workflow interceptors stay out)', async () => {
    const taxNo = taxpayers[1]!;
    // The stack's client has no tracing interceptors.
    const { handle } = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
    });
    await waitForStage(handle, 'AWAITING_APPROVAL');
    const fromWorkflow = spans().filter(
      (s) =>
        (s.name.startsWith('StartActivity:') || s.name.startsWith('RunWorkflow:')) &&
        workflowIdOf(s) === handle.workflowId,
    );
    assert.deepEqual(fromWorkflow, []);
    // Its activities still run in spans of their own (roots), the requests inside them.
    const activities = spans().filter((s) => s.name.startsWith('RunActivity:') && s.parentSpanId === undefined);
    assert.ok(activities.length > 0);
    await handle.terminate('test done');
  });
});
