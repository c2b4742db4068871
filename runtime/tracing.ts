/**
 * OpenTelemetry tracing, one trace from the client's call to the invoice cloud's HTTP request
 * (Temporal's interceptors, @temporalio/interceptors-opentelemetry): the client's start, the
 * workflow run, each activity it schedules and runs, and the activity's requests
 * (activities/invoiceCloudClient.ts). Off unless configured: with no OTLP endpoint nothing is
 * installed, the SDK's interceptors find no tracer and send nothing.
 *   OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  turn tracing on (OTLP/HTTP)
 *   OTEL_EXPORTER_OTLP_HEADERS, ..._TRACES_HEADERS, ..._TIMEOUT       read by the OTLP exporter itself
 *   OTEL_SERVICE_NAME   the service name (default: the process's, e.g. vat-deduction-worker)
 *   OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true  keep tracing off though an endpoint is set
 */
import { fileURLToPath } from 'node:url';
import { trace, context, propagation } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry';

/** The workflow-side interceptors, bundled with the workflow code (workers/createWorker.ts). */
export const WORKFLOW_TRACING_MODULE = fileURLToPath(new URL('../workflows/tracingInterceptors.ts', import.meta.url));

export interface Tracing {
  provider: NodeTracerProvider;
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Sends what is buffered and uninstalls the tracer (spans after this are not recorded). */
  shutdown(): Promise<void>;
}

let installed: Tracing | undefined;

/** The tracing this process installed, if any. */
export function installedTracing(): Tracing | undefined {
  return installed;
}

/**
 * Installs tracing for this process (once): a tracer provider with `spanProcessor`, the W3C trace
 * context propagator and an async-local context so a span started in an activity is the child of
 * the activity's span. Tests pass a processor around an in-memory exporter.
 */
export function installTracing(options: { serviceName: string; spanProcessor: SpanProcessor }): Tracing {
  if (installed) throw new Error('tracing is already installed in this process');
  const resource = Resource.default().merge(new Resource({ 'service.name': options.serviceName }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [options.spanProcessor] });
  provider.register();
  const tracing: Tracing = {
    provider,
    spanProcessor: options.spanProcessor,
    resource,
    async shutdown() {
      if (installed !== tracing) return;
      installed = undefined;
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
  installed = tracing;
  return tracing;
}

export class TracingConfigError extends Error {
  override name = 'TracingConfigError';
}

/** Whether the environment asks for traces, and where they go; a bad URL names its variable. */
export function otlpTracesEndpointFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === 'none') return undefined;
  if (exporter && exporter !== 'otlp') {
    throw new TracingConfigError(`OTEL_TRACES_EXPORTER=${exporter}: only otlp (OTLP over HTTP) or none is supported`);
  }
  for (const variable of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
    const value = env[variable]?.trim();
    if (!value) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new TracingConfigError(`${variable}=${value}: must be a URL such as http://collector:4318`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TracingConfigError(`${variable}=${value}: must be an http or https URL (OTLP over HTTP)`);
    }
    return value;
  }
  return undefined;
}

/**
 * Tracing from the environment (OTLP over HTTP, batched), installed once per process; undefined
 * when no endpoint is configured. Buffered spans are sent when the process runs out of work.
 */
export function installTracingFromEnv(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env) {
  if (installed) return installed;
  if (!otlpTracesEndpointFromEnv(env)) return undefined;
  const tracing = installTracing({
    serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName,
    // The exporter reads the endpoint, headers and timeout from the same OTEL_* variables.
    spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter()),
  });
  process.once('beforeExit', () => void tracing.shutdown());
  return tracing;
}

/** The client's interceptors: its calls start the trace and carry it to the workflow (headers). */
export function clientTracingInterceptors(): WorkflowClientInterceptor[] {
  return installed ? [new OpenTelemetryWorkflowClientInterceptor()] : [];
}

/** An activity's span, the child of the workflow's, around which its HTTP calls are children. */
export const activityTracingInterceptors: ActivityInterceptorsFactory = (ctx) => ({
  inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
  outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
});

/**
 * The sink through which the workflow sandbox hands over its spans. Registered on every worker,
 * since a traced workflow may land on any; spans go to the tracing installed when they arrive.
 */
export function workflowTracingSinks(): InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }> {
  const forward: SpanProcessor = {
    onStart() {},
    onEnd(span: ReadableSpan) {
      installed?.spanProcessor.onEnd(span);
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  return { exporter: makeWorkflowExporter(forward, installed?.resource ?? Resource.default()) };
}
