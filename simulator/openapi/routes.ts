import type { z } from 'zod';
import * as admin from '../admin/schemas.js';
import { ApprovalNotice } from '../../protocol/notice.js';
import { WebhookFailingBody, WebhooksQuery } from '../plugins/webhooks.js';
import { RobotMessagesQuery, RobotSettingsBody } from '../plugins/chatRobots.js';
import { WecomBody, WecomQuery } from '../plugins/wecomRobot.js';
import { DingtalkBody, DingtalkQuery } from '../plugins/dingtalkRobot.js';
import { FeishuBody } from '../plugins/feishuBot.js';
import { ExpireBureauLoginsBody, ExpireTokensBody, FaultsBody, QuotaBody, TaskLatencyBody } from '../faults/schemas.js';

/**
 * The admin API, described once for the OpenAPI document: each route with its zod body or query
 * schema and a body example that the sandbox accepts (test/sandbox.openapi.test.ts checks both
 * that this table matches the registered routes and that every example is accepted).
 */
export interface AdminRouteDoc {
  method: 'get' | 'post';
  /** Fastify style, `:param` for path parameters. */
  path: string;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  example?: unknown;
  /** Where the example is posted when the path alone is not enough (path parameters, query). */
  exampleUrl?: string;
  /**
   * A chat platform's robot: it answers HTTP 200 with this reply field non-zero (`errcode` or
   * `code`) instead of a 400, as the real platform does.
   */
  refusal?: 'errcode' | 'code';
}

const invoice = {
  invoiceType: 27,
  invoiceNo: 'OPENAPI1',
  invoiceDate: '2025-10-10',
  invoiceAmount: '100.00',
  taxAmount: '13.00',
};

export const ADMIN_ROUTES: readonly AdminRouteDoc[] = [
  { method: 'get', path: '/health', summary: 'Liveness and the sandbox clock' },
  { method: 'get', path: '/openapi.json', summary: 'This document' },
  {
    method: 'post',
    path: '/admin/demo',
    summary: 'Seed (or re-seed) the demo tenant',
    body: admin.SeedDemoBody,
    example: { taxPeriod: '202510', invoicesPerTaxpayer: 5, seed: 1 },
  },
  { method: 'get', path: '/admin/clock', summary: 'The sandbox clock' },
  {
    method: 'post',
    path: '/admin/clock',
    summary: 'Set the sandbox clock (tasks and deadline rollovers follow it)',
    body: admin.SetClockBody,
    example: { now: '2025-11-05T10:00:00+08:00' },
  },
  { method: 'get', path: '/admin/task-delays', summary: 'Fixed task delays per kind' },
  {
    method: 'post',
    path: '/admin/task-delays',
    summary: 'Set fixed task delays per kind',
    body: admin.TaskDelaysBody,
    example: { selectMs: 0, statisticMs: 0 },
  },
  {
    method: 'post',
    path: '/admin/auth-settings',
    summary: 'Token lifetimes',
    body: admin.AuthSettingsBody,
    example: { accessTokenTtlMs: 7_200_000 },
  },
  {
    method: 'post',
    path: '/admin/tenant-encoding',
    summary: "The tenant's `data` encoding: base64 or aes-gcm with a password",
    body: admin.TenantEncodingBody,
    example: { tenantId: 'devbiz', kind: 'base64' },
  },
  { method: 'get', path: '/admin/faults', summary: "A tenant's injected faults", query: ExpireTokensBody },
  {
    method: 'post',
    path: '/admin/faults',
    summary: "Replace a tenant's injected faults (5xx, hang, reset, corrupt, slow; before or after processing)",
    body: FaultsBody,
    example: { tenantId: 'devbiz', http5xxRate: 0, injectAt: 'after' },
  },
  {
    method: 'post',
    path: '/admin/faults/expire-tokens',
    summary: 'Expire every access token of a tenant (next call answers 1002)',
    body: ExpireTokensBody,
    example: { tenantId: 'devbiz' },
  },
  {
    method: 'post',
    path: '/admin/faults/expire-bureau-logins',
    summary: 'Expire bureau logins (selection answers 36 until taxLogin)',
    body: ExpireBureauLoginsBody,
    example: { taxNo: '91440300591872133B' },
  },
  {
    method: 'get',
    path: '/admin/faults/served',
    summary: 'Faults served to a tenant so far (5xx, hang, reset, corrupt, slow, replies lost after processing)',
    query: ExpireTokensBody,
  },
  { method: 'get', path: '/admin/quota', summary: "A tenant's request quota", query: ExpireTokensBody },
  {
    method: 'post',
    path: '/admin/quota',
    summary: "Set a tenant's request quota (requests per second; over it: errorCode 4290)",
    body: QuotaBody,
    example: { tenantId: 'devbiz', requestsPerSecond: null },
  },
  { method: 'get', path: '/admin/task-latency', summary: 'Task latency distribution per kind' },
  {
    method: 'post',
    path: '/admin/task-latency',
    summary: "Set a task kind's latency distribution (fixed, uniform, longTail) and its seed",
    body: TaskLatencyBody,
    example: { kind: 'select', distribution: { type: 'fixed', ms: 0 } },
  },
  {
    method: 'get',
    path: '/admin/profile',
    summary: 'The protocol profile in force for a tenant ("*": every tenant without its own)',
    query: admin.ProfileQuery,
  },
  {
    method: 'post',
    path: '/admin/profile',
    summary:
      'Set the protocol profile the sandbox speaks to a tenant (interface codes, select flag, confirm-result interface, statistic categories)',
    body: admin.ProfileBody,
    example: { tenantId: 'devbiz', profile: { selectFlag: { select: '1', cancel: '0' } } },
  },
  {
    method: 'get',
    path: '/admin/request-id-dedup',
    summary:
      'Whether writes repeating a requestId get their first reply, for a tenant ("*": every tenant without its own)',
    query: admin.RequestIdDedupQuery,
  },
  {
    method: 'post',
    path: '/admin/request-id-dedup',
    summary:
      'Turn requestId de-duplication of writes on or off for a tenant (default off: every repeat reaches the bureau)',
    body: admin.RequestIdDedupBody,
    example: { tenantId: 'devbiz', enabled: false },
  },
  { method: 'get', path: '/admin/invariants', summary: 'Invariants over settled bureau tasks' },
  { method: 'get', path: '/admin/taxpayers', summary: 'Every taxpayer with its summary' },
  {
    method: 'post',
    path: '/admin/taxpayers',
    summary: 'Add or update a taxpayer',
    body: admin.TaxpayerBody,
    example: {
      taxNo: '91440300591872133B',
      name: '深圳市金蝶示例科技有限公司',
      softCertificate: true,
      periodChangeSupported: true,
      taxPeriod: '202510',
      confirmPassword: '1234567',
    },
  },
  { method: 'get', path: '/admin/taxpayers/:taxNo', summary: "One taxpayer's summary" },
  {
    method: 'post',
    path: '/admin/taxpayers/:taxNo/invoices',
    summary: 'Add or replace pool invoices',
    body: admin.AddInvoicesBody,
    example: { invoices: [invoice] },
  },
  {
    method: 'post',
    path: '/admin/taxpayers/:taxNo/invoices/generate',
    summary: 'Generate pool invoices deterministically',
    body: admin.GenerateInvoicesBody,
    example: { count: 3, seed: 1, period: '202510' },
  },
  {
    method: 'post',
    path: '/admin/taxpayers/:taxNo/bureau-invoices',
    summary: 'Add invoices on the bureau side, for invoiceDown to pull into the pool',
    body: admin.AddInvoicesBody,
    example: { invoices: [{ ...invoice, invoiceNo: 'OPENAPI2' }] },
  },
  {
    method: 'post',
    path: '/admin/taxpayers/:taxNo/bureau-invoices/generate',
    summary: 'Generate bureau-side invoices deterministically',
    body: admin.GenerateInvoicesBody,
    example: { count: 3, seed: 2, period: '202510' },
  },
  {
    method: 'get',
    path: '/admin/taxpayers/:taxNo/invoices',
    summary: "The taxpayer's pool with the bureau's selection state",
  },
  {
    method: 'get',
    path: '/admin/taxpayers/:taxNo/statistic',
    summary: "A period's statistic table as the bureau holds it (default: the current period)",
    query: admin.StatisticQuery,
  },
  {
    method: 'get',
    path: '/admin/ledger',
    summary:
      'The ledger of write requests that reached the bureau: accepted ones, and refused ones with includeRefused=true',
    query: admin.LedgerQuery,
  },
  {
    method: 'post',
    path: '/webhooks/:name',
    summary: 'Webhook receiver for approver notifications (tests): keeps the notice in memory',
    body: ApprovalNotice,
    example: {
      kind: 'approval-needed',
      taxNo: '91440300591872133B',
      taxPeriod: '202510',
      approvalDeadline: '2025-11-14T00:00:00+08:00',
      workflowId: 'deduction-91440300591872133B-202510',
      text: '【待审批 Approval needed】',
      sentAt: '2025-11-05T10:00:00+08:00',
    },
  },
  {
    method: 'get',
    path: '/admin/webhooks',
    summary: 'Notices the webhook receiver got, oldest first (optionally one name)',
    query: WebhooksQuery,
  },
  {
    method: 'post',
    path: '/admin/webhooks/failing',
    summary: 'Make one webhook receiver answer 503 (a chat platform down), or work again',
    body: WebhookFailingBody,
    example: { name: 'approvals', failing: false },
  },
  {
    method: 'post',
    path: '/wecom/cgi-bin/webhook/send',
    summary: 'WeCom (企业微信) group robot: markdown/text message checked as the platform does; {errcode, errmsg}',
    query: WecomQuery,
    body: WecomBody,
    example: { msgtype: 'markdown', markdown: { content: '## 【待审批 Approval needed】' } },
    exampleUrl: '/wecom/cgi-bin/webhook/send?key=openapi-example',
    refusal: 'errcode',
  },
  {
    method: 'post',
    path: '/dingtalk/robot/send',
    summary:
      'DingTalk (钉钉) custom robot: message and, for a signing robot, timestamp + sign checked; {errcode, errmsg}',
    query: DingtalkQuery,
    body: DingtalkBody,
    example: { msgtype: 'markdown', markdown: { title: '待审批 Approval needed', text: '#### 待审批' } },
    exampleUrl: '/dingtalk/robot/send?access_token=openapi-example',
    refusal: 'errcode',
  },
  {
    method: 'post',
    path: '/feishu/open-apis/bot/v2/hook/:token',
    summary:
      'Feishu / Lark (飞书) custom bot: card or text and, for a signing bot, timestamp + sign checked; {code, msg}',
    body: FeishuBody,
    example: { msg_type: 'text', content: { text: '【待审批 Approval needed】' } },
    exampleUrl: '/feishu/open-apis/bot/v2/hook/openapi-example',
    refusal: 'code',
  },
  {
    method: 'post',
    path: '/admin/robots',
    summary: 'Give a robot a signing secret (it then refuses unsigned or wrongly signed requests), or null: none',
    body: RobotSettingsBody,
    example: { platform: 'feishu', token: 'openapi-example-signed', secret: 'example-secret' },
  },
  {
    method: 'get',
    path: '/admin/robots/messages',
    summary: 'Messages the robots accepted, oldest first (optionally one platform, one token)',
    query: RobotMessagesQuery,
  },
];
