import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { redact } from '../protocol/redaction.js';
import { DataDecodingError, decodeData, encodeData, type DataEncoding } from '../protocol/codec.js';
import { GatewayCode } from '../protocol/codes.js';
import { ACCESS_TOKEN_PATH, APP_TOKEN_PATH, BusinessRequest, type BusinessReply } from '../protocol/envelope.js';
import { describeZodError } from '../protocol/interfaces.js';

/**
 * Replay mode of the sandbox (`startSandbox({ replayDir })`, `SANDBOX_REPLAY_DIR`): a folder of
 * capture files (activities/replyCaptures.ts; written by the worker with INVOICE_CLOUD_CAPTURE_DIR
 * or by `npm run cli -- doctor`) answers the business calls, so a tenant's real behaviour can be
 * run again. The token calls (1.01, 1.02) always succeed. A business call is answered by the
 * captures of the same wire interfaceCode and the same request data, volatile and redacted fields
 * ignored, in recorded order; the last one repeats once they are used up.
 */

/** errorCode of the reply to a call no capture matches. */
export const REPLAY_NO_CAPTURE = '1404';

/** Request fields that differ between runs of the same operation and never decide a reply. */
const VOLATILE_FIELDS = new Set(['requestId']);

/** Token calls in a capture folder (the doctor captures them): never replayed, tokens are minted. */
const TOKEN_CAPTURES = new Set(['getAppToken', 'login']);

const CaptureFile = z.looseObject({
  capturedAt: z.string().min(1),
  interface: z.string().min(1),
  interfaceCode: z.string().min(1),
  request: z.unknown(),
  reply: z.looseObject({
    errorCode: z.union([z.string(), z.number()]).transform((v) => String(v)),
    message: z.string().default(''),
    success: z.union([z.boolean(), z.enum(['true', 'false'])]).transform((v) => v === true || v === 'true'),
    data: z.unknown().optional(),
  }),
});
type CaptureFile = z.output<typeof CaptureFile>;

export class ReplayError extends Error {
  override name = 'ReplayError';
}

/** A JSON text with object keys sorted, so equal data give equal keys. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function withoutVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVolatile);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !VOLATILE_FIELDS.has(k))
        .map(([k, v]) => [k, withoutVolatile(v)]),
    );
  }
  return value;
}

/**
 * What a request is matched by: its data redacted as captures are (passwords, tokens, keys become
 * "***") and without volatile fields. TaskNos need no mapping: the replayed replies carry the
 * recorded taskNos, and a client sends back the taskNo it was given.
 */
export function requestKey(request: unknown): string {
  return canonical(withoutVolatile(redact(request)));
}

interface Queue {
  captures: CaptureFile[];
  next: number;
}

export interface ReplayStats {
  dir: string;
  captures: number;
  served: number;
  unmatched: { interfaceCode: string; request: string }[];
}

/** The captures of a folder, queued per (wire interfaceCode, request) in recorded order. */
export class CaptureReplay {
  private readonly queues = new Map<string, Queue>();
  private readonly perInterface = new Map<string, number>();
  private served = 0;
  private readonly unmatched: ReplayStats['unmatched'] = [];

  private constructor(
    readonly dir: string,
    private readonly count: number,
  ) {}

  /** Reads every `*.json` capture of `dir`; a file that is not a capture is an error naming it. */
  static fromDir(dir: string): CaptureReplay {
    const folder = resolve(dir);
    let names: string[];
    try {
      names = readdirSync(folder).filter((n) => n.endsWith('.json'));
    } catch (error) {
      throw new ReplayError(`replay folder ${folder}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const files: { name: string; capture: CaptureFile }[] = [];
    for (const name of names) {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(join(folder, name), 'utf8'));
      } catch (error) {
        throw new ReplayError(`replay capture ${join(folder, name)}: not JSON (${(error as Error).message})`);
      }
      const parsed = CaptureFile.safeParse(raw);
      if (!parsed.success) {
        throw new ReplayError(`replay capture ${join(folder, name)}: ${describeZodError(parsed.error)}`);
      }
      if (!TOKEN_CAPTURES.has(parsed.data.interface)) files.push({ name, capture: parsed.data });
    }
    if (files.length === 0) throw new ReplayError(`replay folder ${folder}: no captures of business calls`);
    // Recorded order: capture time, then the file name (its sequence number breaks ties).
    files.sort((a, b) =>
      a.capture.capturedAt !== b.capture.capturedAt
        ? a.capture.capturedAt < b.capture.capturedAt
          ? -1
          : 1
        : a.name < b.name
          ? -1
          : 1,
    );
    const replay = new CaptureReplay(folder, files.length);
    for (const { capture } of files) {
      const key = `${capture.interfaceCode}\n${requestKey(capture.request)}`;
      const queue = replay.queues.get(key) ?? { captures: [], next: 0 };
      queue.captures.push(capture);
      replay.queues.set(key, queue);
      replay.perInterface.set(capture.interfaceCode, (replay.perInterface.get(capture.interfaceCode) ?? 0) + 1);
    }
    return replay;
  }

  /** The next recorded reply for this call (the last again once used up), or undefined. */
  next(interfaceCode: string, request: unknown): CaptureFile['reply'] | undefined {
    const queue = this.queues.get(`${interfaceCode}\n${requestKey(request)}`);
    if (!queue) return undefined;
    const capture = queue.captures[Math.min(queue.next, queue.captures.length - 1)]!;
    queue.next++;
    this.served++;
    return capture.reply;
  }

  /** The reply envelope for a call, with `data` encoded for the tenant. */
  answer(interfaceCode: string, request: unknown, encoding: DataEncoding): BusinessReply {
    const reply = this.next(interfaceCode, request);
    if (!reply) {
      const data = requestKey(request);
      this.unmatched.push({ interfaceCode, request: data });
      const others = this.perInterface.get(interfaceCode) ?? 0;
      const shown = data.length > 300 ? `${data.slice(0, 300)}…` : data;
      return {
        success: false,
        status: false,
        errorCode: REPLAY_NO_CAPTURE,
        message:
          `回放无匹配记录 replay: no capture of interfaceCode ${interfaceCode} with data ${shown} in ${this.dir}` +
          (others > 0 ? ` (${others} captures of ${interfaceCode} have other data)` : ` (none of ${interfaceCode})`),
      };
    }
    return {
      success: reply.success,
      status: reply.success,
      errorCode: reply.errorCode,
      message: reply.message,
      ...(reply.data !== undefined ? { data: encodeData(reply.data, encoding) } : {}),
    };
  }

  stats(): ReplayStats {
    return { dir: this.dir, captures: this.count, served: this.served, unmatched: [...this.unmatched] };
  }
}

const tokenReply = (field: 'app_token' | 'access_token') => ({
  data: {
    [field]: randomUUID(),
    success: true,
    error_desc: '',
    expire_time: Date.now() + 2 * 3600_000,
    error_code: '0',
  },
  state: 'success',
});

const failure = (errorCode: string, message: string): BusinessReply => ({
  success: false,
  status: false,
  errorCode,
  message,
});

export interface ReplayPluginOptions {
  replay: CaptureReplay;
  gatewayPath: string;
  encoding: DataEncoding;
}

/**
 * The replay routes. Paths are matched by their end, so a tenant's path prefix (profile
 * `pathPrefix`, e.g. "/ierp") replays too. `GET /replay` tells what was served and what not.
 */
export async function replayPlugin(app: FastifyInstance, { replay, gatewayPath, encoding }: ReplayPluginOptions) {
  app.get('/replay', async () => replay.stats());
  app.post('/*', async (request, reply) => {
    const path = new URL(request.url, 'http://replay').pathname;
    if (path.endsWith(APP_TOKEN_PATH)) return tokenReply('app_token');
    if (path.endsWith(ACCESS_TOKEN_PATH)) return tokenReply('access_token');
    if (!path.endsWith(gatewayPath)) return reply.code(404).send({ error: `replay: no route ${path}` });
    const envelope = BusinessRequest.safeParse(request.body);
    if (!envelope.success) return failure(GatewayCode.InvalidRequest, describeZodError(envelope.error));
    let data: unknown;
    try {
      data = decodeData(envelope.data.data, encoding);
    } catch (error) {
      if (error instanceof DataDecodingError) return failure(GatewayCode.InvalidRequest, `data: ${error.message}`);
      throw error;
    }
    return replay.answer(envelope.data.interfaceCode, data, encoding);
  });
}
