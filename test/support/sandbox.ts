import type { InvoiceInput } from '../../simulator/admin/schemas.js';
import axios from 'axios';
import { decodeData, encodeData, type DataEncoding } from '../../protocol/codec.js';
import { DEFAULT_GATEWAY_PATH, type BusinessReply } from '../../protocol/envelope.js';
import type { InterfaceCode, RequestOf, ReplyOf, SelectResultItem } from '../../protocol/interfaces.js';
import { SandboxAdmin } from '../../simulator/adminClient.js';
import { startSandbox, type RunningSandbox, type SandboxOptions } from '../../simulator/server.js';
import { SANDBOX_DEFAULT_PROFILE } from '../../simulator/settings.js';

/** Test support: a sandbox on a random port, authenticated, with typed business calls. */

export const http = axios.create({ validateStatus: () => true, timeout: 10_000 });

export const DEMO = {
  appId: 'CASHINV',
  appSecret: '12345678',
  tenantid: 'devbiz',
  accountId: '1534920374578620490',
  user: '13825207590',
};
export const KINGDEE = '91440300591872133B';
export const TRADING = '91440300MA5G9GK78Y';
export const NO_SOFT_CERT = '91440300MA5DC6QB6G';
export const OUTSIDE_TENANT = '914403007451947782';

export { withCheckCharacter } from '../../protocol/taxNo.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Decoded<T> extends BusinessReply {
  decoded?: T;
}

export class TestSandbox {
  accessToken = '';
  encoding: DataEncoding = { kind: 'base64' };
  /** Wire interfaceCodes to send instead of the logical ones (a tenant profile renaming interfaces). */
  wire: Partial<Record<InterfaceCode, string>> = {};
  private requestSeq = 0;

  private constructor(
    readonly sandbox: RunningSandbox,
    readonly admin: SandboxAdmin,
  ) {}

  static async start(opts: SandboxOptions = {}): Promise<TestSandbox> {
    const sandbox = await startSandbox({ ...opts, port: 0, dbFile: opts.dbFile ?? ':memory:' });
    return new TestSandbox(sandbox, new SandboxAdmin(sandbox.url));
  }

  get url(): string {
    return this.sandbox.url;
  }

  close(): Promise<void> {
    return this.sandbox.close();
  }

  async login(): Promise<string> {
    const app = await http.post(`${this.url}/api/getAppToken.do`, {
      appId: DEMO.appId,
      appSecret: DEMO.appSecret,
      tenantid: DEMO.tenantid,
      accountId: DEMO.accountId,
    });
    const access = await http.post(`${this.url}/api/login.do`, {
      user: DEMO.user,
      apptoken: app.data.data.app_token,
      tenantid: DEMO.tenantid,
      accountId: DEMO.accountId,
      usertype: 'Mobile',
    });
    this.accessToken = access.data.data.access_token as string;
    return this.accessToken;
  }

  /** Posts a raw envelope; token null sends no access_token at all. */
  async raw(body: unknown, token: string | null = this.accessToken): Promise<BusinessReply> {
    return (await this.rawHttp(body, token)).data as BusinessReply;
  }

  /** The raw HTTP exchange (status and body), for fault tests. */
  rawHttp(body: unknown, token: string | null = this.accessToken, timeoutMs = 10_000) {
    const query = token === null ? '' : `?access_token=${encodeURIComponent(token)}`;
    return http.post(`${this.url}${DEFAULT_GATEWAY_PATH}${query}`, body, { timeout: timeoutMs });
  }

  /** The envelope of a business call, unsent. */
  envelope<C extends InterfaceCode>(interfaceCode: C, payload: RequestOf<C>, requestId = `r${++this.requestSeq}`) {
    return {
      businessSystemCode: 'yhtest',
      interfaceCode: this.wire[interfaceCode] ?? interfaceCode,
      requestId,
      data: encodeData(payload, this.encoding),
    };
  }

  async call<C extends InterfaceCode>(
    interfaceCode: C,
    payload: RequestOf<C>,
    requestId = `r${++this.requestSeq}`,
  ): Promise<Decoded<ReplyOf<C>>> {
    const reply = await this.raw(this.envelope(interfaceCode, payload, requestId));
    return reply.data === undefined
      ? reply
      : { ...reply, decoded: decodeData(reply.data, this.encoding) as ReplyOf<C> };
  }

  /** Calls and insists on success. */
  async ok<C extends InterfaceCode>(interfaceCode: C, payload: RequestOf<C>, requestId?: string): Promise<ReplyOf<C>> {
    const reply = await this.call(interfaceCode, payload, requestId);
    if (reply.errorCode !== '0000' || reply.decoded === undefined) {
      throw new Error(`${interfaceCode} failed: [${reply.errorCode}] ${reply.message}`);
    }
    return reply.decoded;
  }

  /** Polls a task's result query until it stops answering 6910. */
  async settled<
    C extends
      | 'invoiceSelectQuery'
      | 'statisticCreateQuery'
      | 'statisticConfirmResult'
      | 'invoiceDownQuery'
      | 'preSelectConfirmQuery',
  >(interfaceCode: C, payload: RequestOf<C>): Promise<Decoded<ReplyOf<C>>> {
    for (let i = 0; i < 100; i++) {
      const reply = await this.call(interfaceCode, payload);
      if (reply.errorCode !== '6910') return reply;
      await sleep(50);
    }
    throw new Error(`${interfaceCode} never settled`);
  }
}

export function selectLine(
  invoiceNo: string,
  overrides: Partial<RequestOf<'invoiceSelect'>['invoices'][number]> = {},
): RequestOf<'invoiceSelect'>['invoices'][number] {
  return {
    salerName: '',
    salerTaxNo: '',
    invoiceType: '2,4,12,15,21,26,27,28,29,83,1,3',
    invoiceCode: '',
    invoiceNo,
    etaxInvoiceNo: '',
    invoiceDate: '2025-10-10',
    invoiceAmount: '100.00',
    effectiveTaxAmount: '13.00',
    totalTaxAmount: '113.00',
    notDeductibleType: '',
    ...overrides,
  };
}

/** authenticateFlag values of the default profile: 1 selects, 0 cancels (docs/protocol.md). */
export const SELECT_FLAG = Number(SANDBOX_DEFAULT_PROFILE.selectFlag.select) as 0 | 1;
export const CANCEL_FLAG = Number(SANDBOX_DEFAULT_PROFILE.selectFlag.cancel) as 0 | 1;

export function selectRequest(
  taxNo: string,
  lines: RequestOf<'invoiceSelect'>['invoices'],
  opts: { cancel?: boolean; purpose?: '1' | '2'; authenticateFlag?: 0 | 1 } = {},
): RequestOf<'invoiceSelect'> {
  return {
    taxNo,
    billType: '0',
    authenticateFlag: opts.authenticateFlag ?? (opts.cancel ? CANCEL_FLAG : SELECT_FLAG),
    deductionPurpose: opts.purpose ?? '1',
    asyncFlag: '1',
    invoices: lines,
  };
}

type SelectOptions = { cancel?: boolean; purpose?: '1' | '2'; requestId?: string; authenticateFlag?: 0 | 1 };

/** Selects (or cancels) and waits for the per-invoice result items: `success` and `fail` of every page. */
export async function selectResults(
  t: TestSandbox,
  taxNo: string,
  lines: RequestOf<'invoiceSelect'>['invoices'],
  opts: SelectOptions = {},
): Promise<{ taskNo: string; success: SelectResultItem[]; fail: SelectResultItem[] }> {
  const { taskNo } = await t.ok('invoiceSelect', selectRequest(taxNo, lines, opts), opts.requestId);
  const reply = await t.settled('invoiceSelectQuery', { taxNo, taskNo: taskNo!, pageSize: 500 });
  if (!reply.decoded) throw new Error(`invoiceSelectQuery failed: [${reply.errorCode}] ${reply.message}`);
  return { taskNo: taskNo!, success: reply.decoded.success, fail: reply.decoded.fail };
}

/** Selects (or cancels) and waits for the documented selectResult of each invoice, by invoiceNo. */
export async function selectAndWait(
  t: TestSandbox,
  taxNo: string,
  lines: RequestOf<'invoiceSelect'>['invoices'],
  opts: SelectOptions = {},
): Promise<Record<string, string>> {
  const { success, fail } = await selectResults(t, taxNo, lines, opts);
  return Object.fromEntries([...success, ...fail].map((l) => [l.invoiceNo, l.selectResult]));
}

/** Generates ('1') or revokes ('2') the statistic and waits for its statistic object (an error reply throws). */
export async function statisticTask(t: TestSandbox, taxNo: string, operateType: '1' | '2') {
  const { taskNo } = await t.ok('statisticCreate', { taxNo, operateType, asyncFlag: '1' });
  const reply = await t.settled('statisticCreateQuery', { taxNo, taskNo });
  if (!reply.decoded) throw new Error(`statisticCreateQuery failed: [${reply.errorCode}] ${reply.message}`);
  return reply.decoded;
}

/** Confirms the statistic and waits until statisticQuery shows the period confirmed (05). */
export async function confirmAndWait(t: TestSandbox, taxNo: string, password = '1234567') {
  const { taskNo } = await t.ok('statisticConfirm', { taxNo, password, asyncFlag: '1' });
  for (let i = 0; i < 100; i++) {
    const statistic = await t.ok('statisticQuery', { taxNo });
    if (statistic.createTjbbStatus === '05') return { taskNo, statistic };
    await sleep(50);
  }
  throw new Error('the confirmation never showed as 05');
}

/** An invoice of the sandbox tests' period (202510) as the admin API takes it. */
export const invoiceInput = (invoiceNo: string, o: Partial<InvoiceInput> = {}): InvoiceInput => ({
  invoiceType: 27,
  invoiceNo,
  invoiceDate: '2025-10-10',
  invoiceAmount: '100.00',
  taxAmount: '13.00',
  ...o,
});
