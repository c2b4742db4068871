/**
 * Workflow-side tracing (bundled as a workflow interceptor module, workers/createWorker.ts): the
 * SDK's OpenTelemetry interceptors, engaged only for a run its client started inside a trace (a
 * `traceparent` in the start headers, runtime/tracing.ts). A run started without one records no
 * spans, so workers that never trace (tests, tools) need no span sink and histories are unchanged.
 * The interceptors only add headers and spans, never commands: replay is unaffected either way.
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import {
  defaultPayloadConverter,
  type Headers,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/** The header the SDK's interceptors carry the trace context in. */
const TRACE_HEADER = '_tracer-data';

function carriesTrace(headers: Headers | undefined): boolean {
  const payload = headers?.[TRACE_HEADER];
  if (!payload) return false;
  try {
    const carrier = defaultPayloadConverter.fromPayload<Record<string, unknown>>(payload);
    return typeof carrier?.traceparent === 'string';
  } catch {
    return false;
  }
}

type Interceptor = object;
type Method = (input: unknown, next: (input: unknown) => unknown) => unknown;

/** Each method of `target`, called when `engaged(input)`, else passed straight to `next`. */
function gated<T extends Interceptor>(target: T, engaged: (input: unknown) => boolean): T {
  const wrapper: Record<string, Method> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(target))) {
    const method = (target as Record<string, unknown>)[name];
    if (name === 'constructor' || typeof method !== 'function') continue;
    wrapper[name] = (input, next) => (engaged(input) ? (method as Method).call(target, input, next) : next(input));
  }
  return wrapper as T;
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  // The run's start headers decide for the whole run; a signal, update or query may bring its own.
  let traced = false;
  const tracedInbound = new OpenTelemetryInboundInterceptor();
  const inbound = gated<WorkflowInboundCallsInterceptor>(
    tracedInbound,
    (input) => traced || carriesTrace((input as { headers?: Headers }).headers),
  );
  inbound.execute = (input, next) => {
    traced = carriesTrace(input.headers);
    return traced ? tracedInbound.execute(input, next) : next(input);
  };
  const outbound = gated<WorkflowOutboundCallsInterceptor>(new OpenTelemetryOutboundInterceptor(), () => traced);
  return { inbound: [inbound], outbound: [outbound], internals: [new OpenTelemetryInternalsInterceptor()] };
};
