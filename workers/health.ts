/**
 * The worker's HTTP side: GET /health (200 while the worker runs, 503 otherwise) and GET /metrics
 * (our prom-client metrics followed by the Temporal runtime's own Prometheus metrics).
 */
import axios from 'axios';
import Fastify, { type FastifyInstance } from 'fastify';
import type { WorkerMetrics } from './metrics.js';

export interface WorkerHttpOptions {
  metrics: WorkerMetrics;
  /** The worker's state, e.g. RUNNING, STOPPING; undefined before it is created. */
  workerState: () => string | undefined;
  /** Where the Temporal runtime serves its metrics (Runtime telemetryOptions prometheus bindAddress). */
  temporalMetricsUrl?: string;
}

export async function buildWorkerHttp(opts: WorkerHttpOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/health', async (_req, reply) => {
    const state = opts.workerState();
    const ok = state === 'RUNNING';
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', worker: state ?? 'NOT_STARTED' });
  });
  app.get('/metrics', async (_req, reply) => {
    let text = await opts.metrics.registry.metrics();
    if (opts.temporalMetricsUrl) {
      try {
        const core = await axios.get<string>(opts.temporalMetricsUrl, { timeout: 2000, responseType: 'text' });
        text += `\n${core.data}`;
      } catch (err) {
        text += `\n# Temporal runtime metrics unavailable: ${(err as Error).message}\n`;
      }
    }
    return reply.type(opts.metrics.registry.contentType).send(text);
  });
  return app;
}
