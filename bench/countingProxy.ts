import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_GATEWAY_PATH } from '../protocol/envelope.js';
import { GatewayCode } from '../protocol/codes.js';

/** What the sandbox received through the proxy, by business interface. */
export interface GatewayCounts {
  /** Every business-gateway request, whatever its answer. */
  total: number;
  byInterface: Record<string, number>;
  /** Requests the sandbox refused over the tenant's quota (errorCode 4290). */
  quotaRejections: number;
  /** The most business-gateway requests that reached the proxy within any one second. */
  peakPerSecond: number;
}

export interface CountingProxy {
  url: string;
  counts(): GatewayCounts;
  reset(): void;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function field(json: Buffer, name: string): string | undefined {
  try {
    const value = (JSON.parse(json.toString('utf8')) as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A loopback HTTP proxy in front of the sandbox that counts every business-gateway call the
 * sandbox receives (the figure the quota is about) without touching the sandbox itself.
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  let counts: GatewayCounts = { total: 0, byInterface: {}, quotaRejections: 0, peakPerSecond: 0 };
  // Arrival times of the gateway requests in the last second, for peakPerSecond.
  let lastSecond: number[] = [];
  const server: Server = createServer((request, reply) => {
    void (async () => {
      const body = await readBody(request);
      const gateway = (request.url ?? '').startsWith(DEFAULT_GATEWAY_PATH);
      if (gateway) {
        const code = field(body, 'interfaceCode') ?? 'unknown';
        counts.total++;
        const now = performance.now();
        lastSecond = lastSecond.filter((t) => now - t < 1000);
        lastSecond.push(now);
        counts.peakPerSecond = Math.max(counts.peakPerSecond, lastSecond.length);
        counts.byInterface[code] = (counts.byInterface[code] ?? 0) + 1;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(request.headers)) {
        if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
      }
      const answer = await fetch(`${target}${request.url ?? '/'}`, {
        method: request.method ?? 'GET',
        headers,
        ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
      });
      const replyBody = Buffer.from(await answer.arrayBuffer());
      if (gateway && field(replyBody, 'errorCode') === GatewayCode.QuotaExceeded) counts.quotaRejections++;
      reply.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      reply.end(replyBody);
    })().catch(() => {
      reply.writeHead(502);
      reply.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => structuredClone(counts),
    reset: () => {
      counts = { total: 0, byInterface: {}, quotaRejections: 0, peakPerSecond: 0 };
      lastSecond = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
