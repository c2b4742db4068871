/**
 * `npm run cli -- doctor`: finds out how a tenant's invoice cloud behaves, with the worker's own
 * settings and client, by read-only calls only (docs/protocol.md "Finding out on a real tenant").
 * It never sends a write (invoiceSelect, statisticCreate, statisticConfirm, taxperiodChange,
 * invoiceDown, ...): the calls are the two token calls, taxLogin, taxperiodQuery, statisticQuery
 * and page 1 of the sandbox's pool query.
 */
import axios, { AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { readdirSync } from 'node:fs';
import type { z } from 'zod';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import type { InvoiceCloudConfig } from '../activities/invoiceCloudConfig.js';
import { InvoiceCloudError } from '../activities/invoiceCloudErrors.js';
import { writeCapture } from '../activities/replyCaptures.js';
import { type Drift, findDrift } from '../activities/replyDrift.js';
import { DataDecodingError, decodeData } from '../protocol/codec.js';
import { GatewayCode, STATISTIC_STATUSES } from '../protocol/codes.js';
import {
  ACCESS_TOKEN_PATH,
  AccessTokenReply,
  APP_TOKEN_PATH,
  AppTokenReply,
  BusinessReply,
} from '../protocol/envelope.js';
import { interfaces, type ReplyOf } from '../protocol/interfaces.js';
import { readSkssq, readStatistic } from '../rules/statisticObject.js';

/** The business calls the doctor makes: reads only. */
export const DOCTOR_READS = ['taxLogin', 'taxperiodQuery', 'statisticQuery', 'invoicePoolQuery'] as const;
type DoctorRead = (typeof DOCTOR_READS)[number];

/** Rows of the pool's first page the doctor asks for. */
const POOL_PAGE_SIZE = 20;

export interface DoctorCall {
  /** "1.01 getAppToken", "4.04 taxperiodQuery", ... */
  name: string;
  /** The wire interfaceCode (business calls) or the path (token calls). */
  wire: string;
  /** yes: an HTTP reply came; no: none; '-': not tried. */
  reachable: 'yes' | 'no' | '-';
  outcome: 'matches' | 'drift' | 'bad-reply' | 'refused' | 'unreachable' | 'not-available' | 'skipped';
  /** What the reply showed: "matches the profile", the drifting fields, the refusal verbatim. */
  detail: string;
  drift: Drift[];
  /** Milliseconds spent on HTTP for this call (undefined when nothing was sent). */
  ms?: number;
  /** Whether this call counts as answered for the exit code. */
  answered: boolean;
}

export type Finding = 'confirmed' | 'not confirmed' | 'cannot be confirmed read-only';

export interface DoctorAssumption {
  setting: string;
  value: string;
  finding: Finding;
  detail: string;
}

export interface DoctorReport {
  baseUrl: string;
  taxNo?: string;
  captureDir: string;
  captureFiles: number;
  calls: DoctorCall[];
  assumptions: DoctorAssumption[];
  /** Every read-only call answered (exit code 0). */
  ok: boolean;
}

/** One HTTP exchange as the doctor saw it (bodies decoded by axios; nothing printed from them). */
interface Exchange {
  path: string;
  ms: number;
  status?: number;
  request?: unknown;
  reply?: unknown;
  error?: string;
}

const STARTED = Symbol('doctorStarted');
type Timed = InternalAxiosRequestConfig & { [STARTED]?: number };

/** An axios instance that notes every exchange the client makes. */
function observedHttp(config: InvoiceCloudConfig, exchanges: Exchange[]): AxiosInstance {
  const http = axios.create({ baseURL: config.baseUrl, timeout: config.timeoutMs });
  const pathOf = (c: InternalAxiosRequestConfig | undefined) => String(c?.url ?? '');
  const requestOf = (c: InternalAxiosRequestConfig | undefined): unknown => {
    if (typeof c?.data !== 'string') return c?.data;
    try {
      return JSON.parse(c.data) as unknown;
    } catch {
      return c.data;
    }
  };
  http.interceptors.request.use((c: Timed) => {
    c[STARTED] = performance.now();
    return c;
  });
  http.interceptors.response.use(
    (response) => {
      const c = response.config as Timed;
      exchanges.push({
        path: pathOf(c),
        ms: performance.now() - (c[STARTED] ?? performance.now()),
        status: response.status,
        request: requestOf(c),
        reply: response.data,
      });
      return response;
    },
    (error: unknown) => {
      const c = (error instanceof AxiosError ? error.config : undefined) as Timed | undefined;
      exchanges.push({
        path: pathOf(c),
        ms: performance.now() - (c?.[STARTED] ?? performance.now()),
        request: requestOf(c),
        error: error instanceof AxiosError ? (error.code ?? error.message) : String(error),
      });
      return Promise.reject(error);
    },
  );
  return http;
}

/** A refusal that names the interface as unknown: the tenant has no such interface (or another name). */
function unknownInterface(error: InvoiceCloudError): boolean {
  return (
    error.code === GatewayCode.UnknownInterface ||
    /接口.*(不存在|未注册|未找到)|unknown interface|interface.*not (exist|found)/i.test(error.bureauMessage)
  );
}

const SECTION: Record<DoctorRead, string> = {
  taxLogin: '4.02',
  taxperiodQuery: '4.04',
  statisticQuery: '4.07',
  invoicePoolQuery: 'sandbox',
};

/** Drift grouped by kind: documented fields not sent (all optional: the reply parsed), undocumented ones, unknown values. */
function driftText(drift: Drift[]): string {
  const of = (kind: Drift['kind']) => drift.filter((d) => d.kind === kind);
  const parts = [
    of('missing-field').length
      ? `not sent (optional): ${of('missing-field')
          .map((d) => d.field)
          .join(', ')}`
      : '',
    of('unexpected-field').length
      ? `undocumented: ${of('unexpected-field')
          .map((d) => d.field)
          .join(', ')}`
      : '',
    of('unknown-value').length
      ? `unknown value: ${of('unknown-value')
          .map((d) => `${d.field}=${d.value ?? ''}`)
          .join(', ')}`
      : '',
  ];
  return `drift: ${parts.filter(Boolean).join('; ')}`;
}

/** Never print a token that an error message might carry in a URL. */
function scrub(text: string): string {
  return text.replace(/(access_token|app_token|apptoken)=[^&\s]+/gi, '$1=***');
}

export interface DoctorOptions {
  taxNo?: string;
  captureDir: string;
  now?: () => number;
}

/** Runs the read-only checks against the tenant `config` names; captures go to `captureDir`. */
export async function runDoctor(baseConfig: InvoiceCloudConfig, options: DoctorOptions): Promise<DoctorReport> {
  const config: InvoiceCloudConfig = { ...baseConfig, captureDir: options.captureDir };
  const now = options.now ?? Date.now;
  const exchanges: Exchange[] = [];
  const client = new InvoiceCloudClient(config, observedHttp(config, exchanges), now);
  const calls: DoctorCall[] = [];
  const replies: Partial<{ [C in DoctorRead]: ReplyOf<C> }> = {};
  const decoded: Partial<Record<DoctorRead, unknown>> = {};
  let successCode: string | undefined;

  // 1.01 and 1.02, through the client's own token renewal.
  let authError: unknown;
  try {
    await client.authenticate();
  } catch (error) {
    authError = error;
  }
  for (const [name, path, schema] of [
    ['1.01 getAppToken', APP_TOKEN_PATH, AppTokenReply],
    ['1.02 login', ACCESS_TOKEN_PATH, AccessTokenReply],
  ] as const) {
    const wire = `${config.profile.pathPrefix}${path}`;
    const exchange = exchanges.find((e) => e.path === wire);
    if (exchange) {
      writeCapture(config.captureDir!, {
        capturedAt: new Date(now()).toISOString(),
        interface: path === APP_TOKEN_PATH ? 'getAppToken' : 'login',
        interfaceCode: wire,
        requestId: '',
        request: exchange.request,
        reply: {
          errorCode: exchange.status !== undefined ? `HTTP_${exchange.status}` : 'NETWORK',
          message: exchange.error ?? '',
          success: exchange.status !== undefined && exchange.status < 400,
          data: exchange.reply,
        },
      });
    }
    calls.push(tokenCall(name, wire, exchange, schema));
  }
  const authenticated = authError === undefined;
  if (!authenticated && calls.every((c) => c.answered)) {
    // The client refused something the rows did not show (e.g. a token reply without a token).
    const last = calls[calls.length - 1]!;
    calls[calls.length - 1] = { ...last, outcome: 'refused', answered: false, detail: errorText(authError) };
  }

  for (const code of DOCTOR_READS) {
    const name = `${SECTION[code]} ${code}`;
    const wire = client.wireCode(code);
    if (!authenticated || options.taxNo === undefined) {
      const why = authenticated ? 'skipped: give --tax-no' : 'not tried: no access token';
      calls.push({ name, wire, reachable: '-', outcome: 'skipped', detail: why, drift: [], answered: authenticated });
      continue;
    }
    const from = exchanges.length;
    const taxNo = options.taxNo;
    const request = code === 'invoicePoolQuery' ? { taxNo, pageNo: 1, pageSize: POOL_PAGE_SIZE } : { taxNo };
    const ms = () => exchanges.slice(from).reduce((sum, e) => sum + e.ms, 0);
    const reached = () => (exchanges.slice(from).some((e) => e.status !== undefined) ? 'yes' : 'no');
    try {
      const reply = await client.call(code, request as never);
      (replies as Record<string, unknown>)[code] = reply;
      const envelope = BusinessReply.safeParse(exchanges.at(-1)?.reply);
      const data = envelope.success && envelope.data.data !== undefined ? envelope.data.data : undefined;
      if (envelope.success) successCode ??= envelope.data.errorCode;
      const raw = data !== undefined ? decodeData(data, config.encoding) : undefined;
      decoded[code] = raw;
      const drift = findDrift(code, interfaces[code].reply as z.ZodType, raw);
      calls.push({
        name,
        wire,
        reachable: 'yes',
        outcome: drift.length > 0 ? 'drift' : 'matches',
        detail: drift.length > 0 ? driftText(drift) : 'matches the profile',
        drift,
        ms: ms(),
        answered: true,
      });
    } catch (error) {
      calls.push(failedCall(name, wire, code, error, reached(), ms()));
    }
  }

  const report: DoctorReport = {
    baseUrl: config.baseUrl,
    ...(options.taxNo !== undefined ? { taxNo: options.taxNo } : {}),
    captureDir: config.captureDir!,
    captureFiles: countFiles(config.captureDir!),
    calls,
    assumptions: assumptions(config, calls, replies, decoded, successCode, options.taxNo !== undefined),
    ok: calls.every((c) => c.answered),
  };
  return report;
}

function countFiles(dir: string): number {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).length;
  } catch {
    return 0;
  }
}

function errorText(error: unknown): string {
  if (error instanceof InvoiceCloudError) return scrub(`[${error.code}] ${error.bureauMessage}`);
  return scrub(error instanceof Error ? error.message : String(error));
}

function tokenCall(
  name: string,
  wire: string,
  exchange: Exchange | undefined,
  schema: typeof AppTokenReply | typeof AccessTokenReply,
): DoctorCall {
  const base = { name, wire, drift: [] as Drift[] };
  if (!exchange) return { ...base, reachable: '-', outcome: 'skipped', detail: 'not tried', answered: false };
  if (exchange.status === undefined) {
    return {
      ...base,
      reachable: 'no',
      outcome: 'unreachable',
      detail: `no reply: ${scrub(exchange.error ?? '')}`,
      ms: exchange.ms,
      answered: false,
    };
  }
  if (exchange.status >= 400) {
    return {
      ...base,
      reachable: 'yes',
      outcome: 'refused',
      detail: `HTTP ${exchange.status}`,
      ms: exchange.ms,
      answered: false,
    };
  }
  const parsed = schema.safeParse(exchange.reply);
  if (!parsed.success) {
    return {
      ...base,
      reachable: 'yes',
      outcome: 'bad-reply',
      detail: 'the reply is not the documented auth envelope {data: {success, error_code, ...}, state}',
      ms: exchange.ms,
      answered: false,
    };
  }
  const data = parsed.data.data;
  if (!data.success) {
    return {
      ...base,
      reachable: 'yes',
      outcome: 'refused',
      detail: `refused ${data.error_code}: ${data.error_desc}`,
      ms: exchange.ms,
      answered: false,
    };
  }
  const drift = findDrift(name.split(' ')[1]!, schema, exchange.reply);
  return {
    ...base,
    reachable: 'yes',
    outcome: drift.length > 0 ? 'drift' : 'matches',
    detail: drift.length > 0 ? driftText(drift) : 'matches the profile',
    drift,
    ms: exchange.ms,
    answered: true,
  };
}

function failedCall(
  name: string,
  wire: string,
  code: DoctorRead,
  error: unknown,
  reachable: 'yes' | 'no',
  ms: number,
): DoctorCall {
  const base = { name, wire, drift: [] as Drift[], ms, reachable };
  if (!(error instanceof InvoiceCloudError)) {
    const detail = error instanceof DataDecodingError ? `reply data: ${error.message}` : errorText(error);
    return { ...base, outcome: 'bad-reply', detail, answered: false };
  }
  if (error.code === 'NETWORK') return { ...base, outcome: 'unreachable', detail: errorText(error), answered: false };
  if (error.kind === 'protocol') return { ...base, outcome: 'bad-reply', detail: errorText(error), answered: false };
  if (unknownInterface(error)) {
    if (code === 'invoicePoolQuery') {
      return {
        ...base,
        outcome: 'not-available',
        detail: `not available (sandbox feature): ${errorText(error)}`,
        answered: true,
      };
    }
    return {
      ...base,
      outcome: 'refused',
      detail: `refused as an unknown interface (${errorText(error)}): the tenant may name it otherwise (profile interfaceCodes.${code})`,
      answered: false,
    };
  }
  return { ...base, outcome: 'refused', detail: `refused ${errorText(error)}`, answered: false };
}

const CHECKED_EVERY_MONTH =
  'every month checks the bureau table against its selection before approval and stops when they differ';

function assumptions(
  config: InvoiceCloudConfig,
  calls: DoctorCall[],
  replies: Partial<{ [C in DoctorRead]: ReplyOf<C> }>,
  decoded: Partial<Record<DoctorRead, unknown>>,
  successCode: string | undefined,
  withTaxNo: boolean,
): DoctorAssumption[] {
  const { profile } = config;
  const call = (code: DoctorRead) => calls.find((c) => c.name.endsWith(` ${code}`))!;
  const businessOk = DOCTOR_READS.some((code) => replies[code] !== undefined);
  const tokensOk = calls.slice(0, 2).every((c) => c.answered);
  const out: DoctorAssumption[] = [];
  const add = (setting: string, value: string, finding: Finding, detail: string) =>
    out.push({ setting, value, finding, detail });
  const notSeen = withTaxNo ? 'not seen: the calls did not answer' : 'not seen: give --tax-no';

  add(
    'pathPrefix',
    JSON.stringify(profile.pathPrefix),
    tokensOk ? 'confirmed' : 'not confirmed',
    tokensOk
      ? `the token calls answered under ${config.baseUrl}${profile.pathPrefix}`
      : 'the token calls did not answer there',
  );
  add(
    'encoding',
    config.encoding.kind,
    businessOk ? 'confirmed' : 'not confirmed',
    businessOk ? 'business replies decode' : notSeen,
  );
  add(
    'successCodes',
    profile.successCodes.join(', '),
    successCode !== undefined ? 'confirmed' : 'not confirmed',
    successCode !== undefined ? `successful replies carry errorCode ${successCode}` : notSeen,
  );
  for (const code of ['taxLogin', 'taxperiodQuery', 'statisticQuery'] as const) {
    const c = call(code);
    const answered = c.outcome === 'matches' || c.outcome === 'drift';
    add(
      `interfaceCodes.${code}`,
      c.wire,
      answered ? 'confirmed' : 'not confirmed',
      answered ? 'answered' : c.outcome === 'skipped' ? notSeen : c.detail,
    );
  }

  const period = replies.taxperiodQuery;
  if (period) {
    const fromSkssq = readSkssq(period.skssq).period;
    const value = period.taxPeriod ?? fromSkssq;
    const source = period.taxPeriod !== undefined ? 'taxPeriod' : 'skssq';
    const disagree = period.taxPeriod !== undefined && fromSkssq !== undefined && fromSkssq !== period.taxPeriod;
    add(
      'period (taxPeriod / skssq)',
      value ?? '-',
      value && !disagree ? 'confirmed' : 'not confirmed',
      disagree
        ? `taxPeriod ${period.taxPeriod} and skssq ${fromSkssq} disagree`
        : `period ${value} read from ${source}`,
    );
  } else add('period (taxPeriod / skssq)', '-', 'not confirmed', notSeen);

  const statistic = replies.statisticQuery;
  const rawStatistic = decoded.statisticQuery as Record<string, unknown> | undefined;
  if (statistic) {
    const status = statistic.createTjbbStatus.padStart(2, '0');
    const known = (STATISTIC_STATUSES as readonly string[]).includes(status);
    add(
      'statistic status (createTjbbStatus)',
      status,
      known ? 'confirmed' : 'not confirmed',
      known ? 'present and known' : `status ${status} is not one this product knows: a month would stop on it`,
    );
    let rows: string;
    let finding: Finding = 'confirmed';
    try {
      const read = readStatistic(statistic, period?.taxPeriod ?? readSkssq(period?.skssq).period);
      const where =
        rawStatistic?.tjInfoArr !== undefined ? 'tjInfoArr' : rawStatistic?.tjInfo !== undefined ? 'tjInfo' : '';
      rows = where
        ? `${read.items.length + (read.total ? 1 : 0)} row(s) read from ${where}${read.total ? ' (total row 99 present)' : ''}`
        : `no rows sent (status ${status}); rows are read when a table is generated`;
      if (!where) finding = status === '01' ? 'confirmed' : 'not confirmed';
    } catch (error) {
      rows = (error as Error).message;
      finding = 'not confirmed';
    }
    add(
      'statistic rows (tjInfoArr or tjInfo)',
      rawStatistic?.tjInfoArr !== undefined ? 'tjInfoArr' : 'tjInfo',
      finding,
      rows,
    );
  } else {
    add('statistic status (createTjbbStatus)', '-', 'not confirmed', notSeen);
    add('statistic rows (tjInfoArr or tjInfo)', '-', 'not confirmed', notSeen);
  }

  if (profile.confirmation.kind === 'statistic-status') {
    add(
      'confirmation',
      'statistic-status (createTjbbStatus 05)',
      statistic ? 'confirmed' : 'not confirmed',
      statistic ? 'createTjbbStatus is present, so 05 can be recognised' : notSeen,
    );
  } else {
    add(
      'confirmation',
      `result-interface ${profile.confirmation.interfaceCode}`,
      'cannot be confirmed read-only',
      'the result interface answers only for a confirmation task',
    );
  }
  add(
    'selectFlag (authenticateFlag)',
    `select ${profile.selectFlag.select}, cancel ${profile.selectFlag.cancel}`,
    'cannot be confirmed read-only',
    `only a selection shows it; ${CHECKED_EVERY_MONTH}`,
  );
  add(
    'totalTaxAmount',
    profile.totalTaxAmount,
    'cannot be confirmed read-only',
    `only a selection shows it; ${CHECKED_EVERY_MONTH}`,
  );
  const pool = call('invoicePoolQuery');
  const poolReply = replies.invoicePoolQuery;
  add(
    'candidate source (invoicePoolQuery)',
    pool.wire,
    poolReply ? 'confirmed' : 'not confirmed',
    poolReply
      ? `page 1 holds ${poolReply.invoices.length} of ${poolReply.total} pool invoices`
      : pool.outcome === 'not-available'
        ? 'not available (sandbox feature): this tenant needs another candidate source'
        : pool.outcome === 'skipped'
          ? notSeen
          : pool.detail,
  );
  add(
    'tokenExpired, stillProcessing, tooEarly, quotaExceeded, transient, permanent',
    'profile',
    'cannot be confirmed read-only',
    'seen only when they happen; the captures keep every such reply',
  );
  return out;
}
