import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { installTracingFromEnv, otlpTracesEndpointFromEnv, TracingConfigError } from '../runtime/tracing.js';

/** Tracing from the environment: off unless an OTLP endpoint is set, then spans go there over OTLP/HTTP. */
describe('tracing from the environment (OTLP)', () => {
  it('is off without an endpoint, or with OTEL_TRACES_EXPORTER=none / OTEL_SDK_DISABLED=true', () => {
    assert.equal(installTracingFromEnv('test', {}), undefined);
    assert.equal(otlpTracesEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }), undefined);
    const url = 'http://127.0.0.1:4318';
    assert.equal(
      otlpTracesEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_TRACES_EXPORTER: 'none' }),
      undefined,
    );
    assert.equal(otlpTracesEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.equal(
      otlpTracesEndpointFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${url}/v1/traces` }),
      `${url}/v1/traces`,
    );
  });

  it('refuses bad values, naming the variable', () => {
    assert.throws(
      () => otlpTracesEndpointFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }),
      (err: Error) =>
        err instanceof TracingConfigError && /^OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318: must be/.test(err.message),
    );
    assert.throws(
      () => otlpTracesEndpointFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector:4317' }),
      /^TracingConfigError: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=grpc:\/\/collector:4317: must be an http or https URL/,
    );
    assert.throws(
      () => otlpTracesEndpointFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }),
      /OTEL_TRACES_EXPORTER=zipkin/,
    );
  });

  describe('with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    let server: Server;
    const received: { url: string; body: Buffer }[] = [];
    const saved = { ...process.env };
    before(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({ url: req.url ?? '', body: Buffer.concat(chunks) });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    });
    after(async () => {
      process.env = saved;
      await new Promise((r) => server.close(r));
    });

    it('sends the spans to <endpoint>/v1/traces, with the service name', async () => {
      // The OTLP exporter reads its endpoint from process.env itself.
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
      process.env.OTEL_SERVICE_NAME = 'vat-test-service';
      const tracing = installTracingFromEnv('unused-default');
      assert.ok(tracing, 'tracing is installed');
      trace.getTracer('test').startActiveSpan('a-test-span', (span) => span.end());
      await tracing.shutdown();
      assert.equal(received.length, 1, 'one export request');
      assert.equal(received[0]!.url, '/v1/traces');
      const body = received[0]!.body.toString();
      assert.match(body, /a-test-span/);
      assert.match(body, /vat-test-service/);
    });
  });
});
