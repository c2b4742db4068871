import { randomBytes } from 'node:crypto';
import {
  ACCOUNT_RESULT_MESSAGES,
  AccountResultCode,
  GatewayCode,
  SELECTABLE_INVOICE_STATUSES,
  TASK_PROCESSING_MESSAGE,
} from '../../protocol/codes.js';
import type { AccountInvoiceLine, AccountResultLine } from '../../protocol/interfaces.js';
import { GatewayError } from '../errors.js';
import type { Handler, HandlerContext } from '../gateway/handlers.js';
import { ledgerAccepted } from '../gateway/taskHelpers.js';
import { AccountingStore } from './accountingStore.js';
import { matchAccountInvoice } from './matching.js';

/**
 * The sandbox's accounting interface (入账, 补充说明 2; all assumed, docs/assumptions.md).
 * invoiceAccount books each line at once and answers a taskNo; invoiceAccountQuery answers
 * "still processing" (6910) until the task falls due, then the per-invoice results. An invoice
 * is booked at most once: a second booking answers 3 (已入账) and changes nothing.
 * Accounting tasks take DEFAULT_ACCOUNT_DELAY_MS of sandbox time unless the setting says otherwise,
 * so clients always meet the asynchronous answer at least once.
 */
export const ACCOUNT_DELAY_SETTING = 'delay.accountMs';
export const DEFAULT_ACCOUNT_DELAY_MS = 1000;

function bookLine(ctx: HandlerContext, accounting: AccountingStore, line: AccountInvoiceLine): AccountResultLine {
  const result = (resultCode: AccountResultCode): AccountResultLine => ({
    ...line,
    resultCode,
    resultMsg: ACCOUNT_RESULT_MESSAGES[resultCode],
  });
  const pool = matchAccountInvoice(line, ctx.store.invoices.find(ctx.taxpayer.taxNo, line.invoiceNo));
  if (!pool) return result(AccountResultCode.NoSuchInvoice);
  if (pool.accountStatus === '1') return result(AccountResultCode.AlreadyBooked);
  if (!SELECTABLE_INVOICE_STATUSES.includes(pool.invoiceStatus)) return result(AccountResultCode.NotBookable);
  const booked = accounting.book(ctx.taxpayer.taxNo, pool, line.accountPeriod);
  return result(booked ? AccountResultCode.Booked : AccountResultCode.AlreadyBooked);
}

export const invoiceAccount: Handler<'invoiceAccount'> = (req, ctx) => {
  const accounting = new AccountingStore(ctx.store);
  const lines = req.invoices.map((line) => bookLine(ctx, accounting, line));
  const taskNo = randomBytes(16).toString('hex');
  const dueAt = ctx.now + Number(ctx.store.settings.get(ACCOUNT_DELAY_SETTING) ?? DEFAULT_ACCOUNT_DELAY_MS);
  accounting.insertTask({ taskNo, taxNo: ctx.taxpayer.taxNo, createdAt: ctx.now, dueAt, lines });
  const booked = lines.filter((l) => l.resultCode === AccountResultCode.Booked).length;
  ledgerAccepted(
    ctx,
    'invoiceAccount',
    taskNo,
    req.invoices.map((i) => i.invoiceNo),
    `booked=${booked} refused=${lines.length - booked}`,
  );
  return { asyncFlag: '1', taskNo };
};

export const invoiceAccountQuery: Handler<'invoiceAccountQuery'> = (req, ctx) => {
  const task = new AccountingStore(ctx.store).getTask(req.taskNo);
  if (!task || task.taxNo !== ctx.taxpayer.taxNo) {
    throw new GatewayError(GatewayCode.NoSuchTask, `任务号${req.taskNo}不存在，请确认请求任务号是否正确`);
  }
  if (ctx.now < task.dueAt) throw new GatewayError(GatewayCode.TaskProcessing, TASK_PROCESSING_MESSAGE);
  const successCount = task.lines.filter((l) => l.resultCode === AccountResultCode.Booked).length;
  return {
    taskNo: task.taskNo,
    total: task.lines.length,
    successCount,
    failCount: task.lines.length - successCount,
    invoices: task.lines,
  };
};

export const accountingHandlers = { invoiceAccount, invoiceAccountQuery };
