import { GatewayCode, SELECT_RESULT_MESSAGES, SelectResultCode } from '../../protocol/codes.js';
import { MAX_INVOICES_PER_BATCH } from '../../protocol/interfaces.js';
import type {
  DownloadedInvoice,
  DownloadTaskRequest,
  DownloadTaskResult,
  SelectTaskRequest,
} from '../bureau/bureau.js';
import { PoolStore } from '../bureau/poolStore.js';
import { matchPoolInvoice } from '../bureau/selectRules.js';
import { GatewayError } from '../errors.js';
import type { Handler } from './handlers.js';
import { resultItem, selectResultPage, splitResults } from './replies.js';
import { ledgerAccepted, noSuchTask, settledTask } from './taskHelpers.js';

/**
 * A pool invoice as invoiceDownQuery lists it (Kingdee's field names, our shape): totalTaxAmount the
 * tax, totalAmount the total, authenticateFlag 0/1, or 5 (勾选中) while a select task holding it had
 * not settled when the download did, taxPeriod the period it was selected for.
 */
export function downloadedInvoice(inv: DownloadedInvoice) {
  return {
    invoiceType: String(inv.invoiceType),
    invoiceCode: inv.invoiceCode,
    invoiceNo: inv.invoiceNo,
    etaxInvoiceNo: inv.etaxInvoiceNo,
    invoiceDate: inv.invoiceDate,
    salerTaxNo: inv.salerTaxNo,
    salerName: inv.salerName,
    invoiceAmount: inv.invoiceAmount,
    totalTaxAmount: inv.taxAmount,
    totalAmount: inv.totalAmount,
    effectiveTaxAmount: inv.selectStatus === '1' && inv.effectiveTax ? inv.effectiveTax : inv.taxAmount,
    invoiceStatus: String(inv.invoiceStatus),
    authenticateFlag: inv.inProgress ? '5' : inv.selectStatus,
    taxPeriod: inv.selectStatus === '1' ? inv.selectPeriod : '',
  };
}

/** A confirmed pre-selection is a selection task with this operateType. */
export const PRESELECT_OPERATION = 'preselect';

type PoolCode = 'invoiceDown' | 'invoiceDownQuery' | 'preSelect' | 'preSelectConfirm' | 'preSelectConfirmQuery';

/**
 * 进项表头归集 (invoiceDown) and 预勾选 (preSelect → preSelectConfirm → preSelectConfirmQuery).
 * Assumed behaviour (docs/assumptions.md): pre-selection is kept by the cloud and checked only
 * against the pool; the bureau's rules apply when the confirmation's selection task settles,
 * exactly as for invoiceSelect.
 */
export const poolHandlers: { [C in PoolCode]: Handler<C> } = {
  invoiceDown: (req, ctx) => {
    const request: DownloadTaskRequest = { payload: req, loggedIn: ctx.bureau.isLoggedIn(ctx.taxpayer, ctx.now) };
    const task = ctx.bureau.createTask(ctx.taxpayer.taxNo, 'download', ctx.taxpayer.taxPeriod, request);
    ledgerAccepted(ctx, 'invoiceDown', task.taskNo);
    return { asyncFlag: '1', taskNo: task.taskNo };
  },

  // The reply's shape is our assumption (docs/protocol.md): one page of the search's invoices. A
  // search the bureau could not run (no bureau login) answers 3001 with its message.
  invoiceDownQuery: (req, ctx) => {
    const task = settledTask(ctx, req.taskNo, 'download', noSuchTask(req.taskNo));
    const result = task.result as DownloadTaskResult;
    if (!result.success) throw new GatewayError(GatewayCode.BusinessRuleViolated, result.resultMsg);
    const start = (req.pageNo - 1) * req.pageSize;
    return {
      taskNo: task.taskNo,
      total: result.total,
      pageNo: req.pageNo,
      pageSize: req.pageSize,
      invoices: result.invoices.slice(start, start + req.pageSize).map(downloadedInvoice),
    };
  },

  preSelect: (req, ctx) => {
    const pool = new PoolStore(ctx.store.db);
    const taxNo = ctx.taxpayer.taxNo;
    const accepted: string[] = [];
    const invoices = req.invoices.map((line) => {
      const found = matchPoolInvoice(line, ctx.store.invoices.find(taxNo, line.invoiceNo));
      let code: SelectResultCode = SelectResultCode.Ok;
      if (!found) code = SelectResultCode.NoSuchInvoice;
      else if (found.selectStatus === '1') code = SelectResultCode.AlreadySelected;
      if (code === SelectResultCode.Ok) {
        pool.preSelect(taxNo, line, req.deductionPurpose);
        accepted.push(line.invoiceNo);
      }
      const resultMsg = code === SelectResultCode.Ok ? '预勾选成功' : SELECT_RESULT_MESSAGES[code];
      const verdict = { invoiceCode: line.invoiceCode, invoiceNo: line.invoiceNo, resultCode: code, resultMsg };
      return resultItem(verdict, { line });
    });
    ledgerAccepted(ctx, 'preSelect', '', accepted, `ok preselected=${accepted.length}`);
    return { taxNo, pendingCount: pool.pendingCount(taxNo), ...splitResults(invoices) };
  },

  preSelectConfirm: (_req, ctx) => {
    const pool = new PoolStore(ctx.store.db);
    const taxNo = ctx.taxpayer.taxNo;
    const taken = pool.takePreSelections(taxNo, MAX_INVOICES_PER_BATCH);
    if (taken.length === 0) {
      throw new GatewayError(GatewayCode.BusinessRuleViolated, '没有待确认的预勾选发票');
    }
    const request: SelectTaskRequest = {
      payload: {
        taxNo,
        billType: '0',
        authenticateFlag: ctx.profile.selectFlag.select,
        deductionPurpose: taken[0]!.purpose as '1',
        asyncFlag: '1',
        invoices: taken.map((p) => p.line),
      },
      action: 'select',
      loggedIn: ctx.taxpayer.softCertificate && ctx.bureau.isLoggedIn(ctx.taxpayer, ctx.now),
      purposes: taken.map((p) => p.purpose),
    };
    const task = ctx.bureau.createTask(taxNo, 'select', ctx.taxpayer.taxPeriod, request, PRESELECT_OPERATION);
    ledgerAccepted(
      { ...ctx, arrival: { ...ctx.arrival, selectAction: 'select' } },
      'preSelectConfirm',
      task.taskNo,
      taken.map((p) => p.line.invoiceNo),
      'pending',
      taken.map((p) => ({
        invoiceCode: p.line.invoiceCode,
        invoiceNo: p.line.invoiceNo,
        effectiveTaxAmount: p.line.effectiveTaxAmount,
        purpose: p.purpose,
      })),
    );
    return { asyncFlag: '1', taskNo: task.taskNo, count: taken.length, remaining: pool.pendingCount(taxNo) };
  },

  preSelectConfirmQuery: (req, ctx) =>
    selectResultPage(settledTask(ctx, req.taskNo, 'select', noSuchTask(req.taskNo), PRESELECT_OPERATION), req),
};
