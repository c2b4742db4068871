import axios, { AxiosError, type AxiosInstance } from 'axios';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { GatewayCode } from '../protocol/codes.js';
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
import { classifyGatewayCode, InvoiceCloudError } from './invoiceCloudErrors.js';
import { RequestRateLimiter } from './requestRateLimiter.js';

interface CachedToken {
  value: string;
  expiresAt: number;
}

/** Renew a token this long before the expiry the cloud announced. */
const TOKEN_EXPIRY_MARGIN_MS = 60_000;

/**
 * Typed client of the invoice cloud: the auth calls (1.01, 1.02) and every business interface of
 * protocol/interfaces.ts through the gateway envelope. One instance per worker; it caches the
 * access token and renews it on expiry or when the gateway rejects it.
 */
export class InvoiceCloudClient {
  private accessToken?: CachedToken;
  private tokenRequest?: Promise<string>;
  private readonly limiter?: RequestRateLimiter;

  constructor(
    private readonly config: InvoiceCloudConfig,
    private readonly http: AxiosInstance = axios.create({ baseURL: config.baseUrl, timeout: config.timeoutMs }),
    private readonly now: () => number = Date.now,
  ) {
    if (config.maxRequestsPerSecond !== undefined) {
      this.limiter = new RequestRateLimiter(config.maxRequestsPerSecond);
    }
  }

  /** Calls a business interface; `requestId` doubles as the idempotency key of writes. */
  async call<C extends InterfaceCode>(
    code: C,
    request: RequestOf<C>,
    requestId: string = randomUUID(),
  ): Promise<ReplyOf<C>> {
    const definition = interfaces[code];
    // Validate our own request first: a bad request is our bug, never worth a round trip.
    const checked = definition.request.safeParse(request);
    if (!checked.success) {
      throw new InvoiceCloudError('protocol', code, GatewayCode.InvalidRequest, describeZodError(checked.error));
    }
    const envelope: BusinessRequest = {
      businessSystemCode: this.config.businessSystemCode,
      interfaceCode: definition.interfaceCode,
      requestId,
      data: encodeData(request, this.config.encoding),
    };
    let reply = await this.postBusiness(code, envelope, await this.token());
    if (reply.errorCode === GatewayCode.TokenInvalid) {
      // The gateway refused the token before doing anything, so sending again is safe; it is the
      // same envelope (same requestId), so a write the cloud did see would answer its first reply.
      this.accessToken = undefined;
      reply = await this.postBusiness(code, envelope, await this.token());
    }
    if (reply.errorCode !== GatewayCode.Ok || !reply.success) {
      const failureCode = reply.errorCode === GatewayCode.Ok ? GatewayCode.InternalError : reply.errorCode;
      throw new InvoiceCloudError(classifyGatewayCode(failureCode), code, failureCode, reply.message);
    }
    return this.decodeReply(code, definition.reply, reply.data);
  }

  private decodeReply<C extends InterfaceCode>(code: C, schema: z.ZodType, data: string | undefined): ReplyOf<C> {
    if (data === undefined) {
      throw new InvoiceCloudError('protocol', code, 'NO_DATA', 'successful reply carries no data');
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
      throw new InvoiceCloudError('protocol', code, 'BAD_REPLY', `reply data: ${describeZodError(parsed.error)}`);
    }
    return parsed.data as ReplyOf<C>;
  }

  private async postBusiness(code: string, envelope: BusinessRequest, token: string) {
    const release = await this.limiter?.acquire();
    let body: unknown;
    try {
      body = await this.post(code, this.config.gatewayPath, envelope, { access_token: token });
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

  private async post(code: string, path: string, body: unknown, params?: Record<string, string>): Promise<unknown> {
    try {
      const response = await this.http.post(path, body, { params, validateStatus: () => true });
      if (response.status >= 500 || response.status === 429) {
        throw new InvoiceCloudError('retryable', code, `HTTP_${response.status}`, `HTTP ${response.status}`);
      }
      if (response.status >= 400) {
        throw new InvoiceCloudError('protocol', code, `HTTP_${response.status}`, `HTTP ${response.status}`);
      }
      return response.data;
    } catch (error) {
      if (error instanceof InvoiceCloudError) throw error;
      const reason = error instanceof AxiosError ? (error.code ?? error.message) : String(error);
      throw new InvoiceCloudError('retryable', code, 'NETWORK', `no reply from the invoice cloud: ${reason}`);
    }
  }

  /** A valid access token; concurrent callers share one renewal. */
  private async token(): Promise<string> {
    if (this.accessToken && this.accessToken.expiresAt - TOKEN_EXPIRY_MARGIN_MS > this.now()) {
      return this.accessToken.value;
    }
    this.tokenRequest ??= this.renewToken().finally(() => (this.tokenRequest = undefined));
    return this.tokenRequest;
  }

  private async renewToken(): Promise<string> {
    const appReply = AppTokenReply.safeParse(
      await this.post('getAppToken', APP_TOKEN_PATH, {
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
      await this.post('login', ACCESS_TOKEN_PATH, {
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
