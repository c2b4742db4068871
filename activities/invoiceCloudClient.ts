import { asyncLocalStorage } from '@temporalio/activity';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { DataDecodingError, decodeData, encodeData } from '../protocol/codec.js';
import {
  ACCESS_TOKEN_PATH,
  AccessTokenReply,
  APP_TOKEN_PATH,
  AppTokenReply,
  BusinessReply,
  type BusinessRequest,
} from '../protocol/envelope.js';
import {
  describeZodError,
  interfaces,
  type InterfaceCode,
  type ReplyOf,
  type RequestOf,
} from '../protocol/interfaces.js';
import type { InvoiceCloudConfig } from './invoiceCloudConfig.js';
import { classifyReply, InvoiceCloudError } from './invoiceCloudErrors.js';
import { formatRequestId } from './requestIds.js';
import { type CaptureRecord, DEFAULT_CAPTURE_DIR, writeCapture } from './replyCaptures.js';
import { type Drift, findDrift, isReportable } from './replyDrift.js';
import { RequestRateLimiter } from './requestRateLimiter.js';

interface CachedToken {
  value: string;
  expiresAt: number;
}

/** Renew a token this long before the expiry the cloud announced. */
const TOKEN_EXPIRY_MARGIN_MS = 60_000;

/**
 * The running activity's cancellation signal (aborted when Temporal cancels the activity, when its
 * heartbeat times out, and on worker shutdown); none outside an activity (the CLI's doctor).
 */
function activityCancellation(): AbortSignal | undefined {
  return asyncLocalStorage.getStore()?.cancellationSignal;
}

/** `promise`, or the signal's reason as soon as it aborts (the work behind `promise` goes on for others). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Typed client of the invoice cloud: the auth calls (1.01, 1.02) and every business interface of
 * protocol/interfaces.ts through the gateway envelope. One instance per worker; it caches the
 * access token and renews it on expiry or when the gateway rejects it.
 */
/** Who hears about drift (the worker: a log line and a metric; docs/protocol.md). */
export interface InvoiceCloudObserver {
  onDrift?(drift: Drift, captureFile: string): void;
}

export class InvoiceCloudClient {
  private accessToken?: CachedToken;
  private readonly driftSeen = new Set<string>();
  private tokenRequest?: Promise<string>;
  private readonly limiter?: RequestRateLimiter;

  constructor(
    private readonly config: InvoiceCloudConfig,
    private readonly http: AxiosInstance = axios.create({ baseURL: config.baseUrl, timeout: config.timeoutMs }),
    private readonly now: () => number = Date.now,
    private readonly observer: InvoiceCloudObserver = {},
  ) {
    if (config.maxRequestsPerSecond !== undefined) {
      // Nothing in this process's first second: what a process it replaces sent just before it
      // stopped still counts against the same share (docs/fleet-quota.md).
      this.limiter = new RequestRateLimiter(config.maxRequestsPerSecond, Date.now, performance.timeOrigin + 1000);
    }
  }

  /** This process's quota limiter, if the tenant has a quota (workers/quotaSlots.ts reads its backlog). */
  get quotaLimiter(): RequestRateLimiter | undefined {
    return this.limiter;
  }

  /** The wire interfaceCode of a step, by the protocol profile. */
  wireCode(code: InterfaceCode): string {
    const { interfaceCodes, confirmation } = this.config.profile;
    if (code === 'statisticConfirmResult') {
      return confirmation.kind === 'result-interface' ? confirmation.interfaceCode : interfaces[code].interfaceCode;
    }
    return (interfaceCodes as Partial<Record<InterfaceCode, string>>)[code] ?? interfaces[code].interfaceCode;
  }

  /**
   * Calls a business interface. `identity` names the operation (the same for every resend of one
   * write); the requestId sent is made from it in the profile's style (activities/requestIds.ts).
   * Inside an activity, its cancellation ends the call at once, waiting for a quota slot or for
   * the reply alike: the call throws the activity's CancelledFailure and sends nothing more.
   */
  async call<C extends InterfaceCode>(
    code: C,
    request: RequestOf<C>,
    identity: string = randomUUID(),
  ): Promise<ReplyOf<C>> {
    const definition = interfaces[code];
    // Validate our own request first: a bad request is our bug, never worth a round trip.
    const checked = definition.request.safeParse(request);
    if (!checked.success) {
      throw new InvoiceCloudError('protocol', code, 'INVALID_REQUEST', describeZodError(checked.error));
    }
    const envelope: BusinessRequest = {
      businessSystemCode: this.config.businessSystemCode,
      interfaceCode: this.wireCode(code),
      requestId: formatRequestId(this.config.profile.requestIdStyle, identity, this.now()),
      data: encodeData(request, this.config.encoding),
    };
    let reply = await this.postBusiness(code, envelope, await this.token());
    let meaning = this.meaningOf(reply);
    if (meaning?.kind === 'token-expired') {
      // The gateway refused the token before doing anything, so sending again is safe; it is the
      // same envelope (same requestId), so a write the cloud did see would answer its first reply.
      this.accessToken = undefined;
      reply = await this.postBusiness(code, envelope, await this.token());
      meaning = this.meaningOf(reply);
    }
    const capture = (data: unknown, extra: Pick<CaptureRecord, 'drift' | 'problem'> = {}) =>
      writeCapture(this.config.captureDir ?? DEFAULT_CAPTURE_DIR, {
        capturedAt: new Date(this.now()).toISOString(),
        interface: code,
        interfaceCode: envelope.interfaceCode,
        requestId: envelope.requestId,
        request,
        reply: { errorCode: reply.errorCode, message: reply.message, success: reply.success, data },
        ...extra,
      });
    if (meaning) {
      if (this.config.captureDir) capture(undefined);
      if (meaning.kind === 'token-expired')
        throw new InvoiceCloudError('retryable', code, reply.errorCode, reply.message);
      if (meaning.kind === 'permanent') {
        throw new InvoiceCloudError('business', code, reply.errorCode, `${meaning.meaning}: ${reply.message}`);
      }
      throw new InvoiceCloudError(meaning.kind, code, reply.errorCode, reply.message);
    }
    return this.decodeReply(code, definition.reply, reply.data, capture);
  }

  /** Undefined for a successful reply; else what the profile says the failure means. */
  private meaningOf(reply: BusinessReply) {
    const ok = this.config.profile.successCodes.includes(reply.errorCode);
    if (ok && reply.success) return undefined;
    // "0000" with success false: the cloud contradicts itself; treat it as a passing fault.
    if (ok) return { kind: 'retryable' as const };
    return classifyReply(this.config.profile, reply.errorCode, reply.message);
  }

  /**
   * Reads a successful reply's data tolerantly. Drift is reported once per interface and field;
   * a reply missing what a decision needs fails, naming the interface, the field and the capture.
   */
  private decodeReply<C extends InterfaceCode>(
    code: C,
    schema: z.ZodType,
    data: string | undefined,
    capture: (data: unknown, extra?: Pick<CaptureRecord, 'drift' | 'problem'>) => string,
  ): ReplyOf<C> {
    if (data === undefined) {
      const file = capture(undefined, { problem: 'no data' });
      throw new InvoiceCloudError('protocol', code, 'NO_DATA', `successful reply carries no data (capture ${file})`);
    }
    let decoded: unknown;
    try {
      decoded = decodeData(data, this.config.encoding);
    } catch (error) {
      if (error instanceof DataDecodingError) throw new InvoiceCloudError('protocol', code, 'BAD_DATA', error.message);
      throw error;
    }
    const parsed = schema.safeParse(decoded);
    if (!parsed.success) {
      const problem = `reply data: ${describeZodError(parsed.error)}`;
      const file = capture(decoded, { problem });
      throw new InvoiceCloudError('protocol', code, 'BAD_REPLY', `${problem} (capture ${file})`);
    }
    const drift = findDrift(code, schema, decoded).filter(isReportable);
    const fresh = drift.filter((d) => {
      const key = `${d.interfaceCode}|${d.kind}|${d.field}|${d.value ?? ''}`;
      if (this.driftSeen.has(key)) return false;
      this.driftSeen.add(key);
      return true;
    });
    if (this.config.captureDir || fresh.length > 0) {
      const file = capture(decoded, drift.length > 0 ? { drift } : {});
      for (const d of fresh) this.observer.onDrift?.(d, file);
    }
    return parsed.data as ReplyOf<C>;
  }

  private async postBusiness(code: string, envelope: BusinessRequest, token: string) {
    const signal = activityCancellation();
    const release = await this.limiter?.acquire(signal);
    let body: unknown;
    try {
      body = await this.post(code, this.path(this.config.gatewayPath), envelope, { access_token: token }, signal);
    } finally {
      release?.();
    }
    const parsed = BusinessReply.safeParse(body);
    if (!parsed.success) {
      throw new InvoiceCloudError(
        'protocol',
        code,
        'BAD_ENVELOPE',
        `reply envelope: ${describeZodError(parsed.error)}`,
      );
    }
    return parsed.data;
  }

  /** A documented path under the profile's prefix (e.g. "/ierp" on private deployments). */
  private path(documented: string): string {
    return `${this.config.profile.pathPrefix}${documented}`;
  }

  /**
   * One request, in a span (runtime/tracing.ts) carrying the interface code, the path and the HTTP
   * status: never the body, the parameters (the access token) or the reply.
   */
  private post(
    code: string,
    path: string,
    body: unknown,
    params?: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const attributes = { 'invoice_cloud.interface': code, 'http.request.method': 'POST', 'url.path': path };
    return trace
      .getTracer('vat-deduction')
      .startActiveSpan(`invoice-cloud ${code}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
        try {
          return await this.send(span, code, path, body, params, signal);
        } catch (error) {
          const outcome = error instanceof InvoiceCloudError ? error.code : signal?.aborted ? 'CANCELLED' : 'ERROR';
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
          throw error;
        } finally {
          span.end();
        }
      });
  }

  private async send(
    span: Span,
    code: string,
    path: string,
    body: unknown,
    params?: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<unknown> {
    try {
      signal?.throwIfAborted();
      const response = await this.http.post(path, body, {
        params,
        validateStatus: () => true,
        ...(signal ? { signal } : {}),
      });
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500 || response.status === 429) {
        throw new InvoiceCloudError('retryable', code, `HTTP_${response.status}`, `HTTP ${response.status}`);
      }
      if (response.status >= 400) {
        throw new InvoiceCloudError('protocol', code, `HTTP_${response.status}`, `HTTP ${response.status}`);
      }
      return response.data;
    } catch (error) {
      if (error instanceof InvoiceCloudError) throw error;
      // Cancelled, not a fault of the cloud: the activity's own reason, so Temporal sees a cancellation.
      if (signal?.aborted) throw signal.reason;
      const reason = error instanceof AxiosError ? (error.code ?? error.message) : String(error);
      throw new InvoiceCloudError('retryable', code, 'NETWORK', `no reply from the invoice cloud: ${reason}`);
    }
  }

  /**
   * Obtains an access token now (1.01 and 1.02) unless a valid one is cached: `npm run cli -- doctor`
   * checks the token calls on their own before any business call.
   */
  async authenticate(): Promise<void> {
    await this.token();
  }

  /**
   * A valid access token; concurrent callers share one renewal, so a cancelled caller stops
   * waiting for it without cutting it short for the others.
   */
  private async token(): Promise<string> {
    if (this.accessToken && this.accessToken.expiresAt - TOKEN_EXPIRY_MARGIN_MS > this.now()) {
      return this.accessToken.value;
    }
    this.tokenRequest ??= this.renewToken().finally(() => (this.tokenRequest = undefined));
    return unlessAborted(this.tokenRequest, activityCancellation());
  }

  private async renewToken(): Promise<string> {
    const appReply = AppTokenReply.safeParse(
      await this.post('getAppToken', this.path(APP_TOKEN_PATH), {
        appId: this.config.appId,
        appSecret: this.config.appSecret,
        tenantid: this.config.tenantId,
        accountId: this.config.accountId,
        language: 'zh_CN',
      }),
    );
    if (!appReply.success) {
      throw new InvoiceCloudError('protocol', 'getAppToken', 'BAD_REPLY', describeZodError(appReply.error));
    }
    const app = appReply.data.data;
    if (!app.success || !app.app_token) {
      throw new InvoiceCloudError('auth', 'getAppToken', app.error_code, app.error_desc);
    }
    const loginReply = AccessTokenReply.safeParse(
      await this.post('login', this.path(ACCESS_TOKEN_PATH), {
        user: this.config.user,
        apptoken: app.app_token,
        tenantid: this.config.tenantId,
        accountId: this.config.accountId,
        usertype: this.config.userType,
      }),
    );
    if (!loginReply.success) {
      throw new InvoiceCloudError('protocol', 'login', 'BAD_REPLY', describeZodError(loginReply.error));
    }
    const login = loginReply.data.data;
    if (!login.success || !login.access_token) {
      throw new InvoiceCloudError('auth', 'login', login.error_code, login.error_desc);
    }
    this.accessToken = {
      value: login.access_token,
      expiresAt: login.expire_time ?? this.now() + 2 * 3600_000,
    };
    return login.access_token;
  }
}
