/**
 * The audit report downloads of the inbox: `/months/:taxNo/:period/report.xlsx` and `.pdf`, for a
 * month that ended COMPLETED, REJECTED or EXPIRED, to a logged-in approver of that taxpayer (its
 * registry entry names them, as for deciding). docs/audit-report.md.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DeductionInputError, DeductionNotFoundError, checkPeriod, checkTaxNo } from '../client/deductions.js';
import { REPORT_CONTENT_TYPES, REPORT_FORMATS, reportFileName, renderReport } from '../report/build.js';
import { gatherReportFacts, ReportStateError } from '../report/facts.js';
import { ReportFontError } from '../report/pdf.js';
import { approverEntryFor, displayName, type Identity } from './identity.js';
import type { TaxpayerDirectory } from './taxpayers.js';
import { sendProblem } from './webSecurity.js';

export interface ReportRouteDeps {
  client: Client;
  taxpayers: TaxpayerDirectory;
  /** The inbox's login check (a preHandler). */
  requireLogin: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  now: () => Date;
}

/** Whether `who` may download the reports of `taxNo`: an approver of it in the registry. */
export function mayReadReports(taxpayers: TaxpayerDirectory, who: Identity, taxNo: string): boolean {
  return approverEntryFor(who, taxpayers().get(taxNo)?.approvers) !== undefined;
}

export function registerReportRoutes(app: FastifyInstance, deps: ReportRouteDeps): void {
  for (const format of REPORT_FORMATS) {
    app.get(`/months/:taxNo/:period/report.${format}`, { preHandler: deps.requireLogin }, async (request, reply) => {
      const { taxNo, period } = request.params as { taxNo: string; period: string };
      const who = request.session.identity!;
      try {
        checkTaxNo(taxNo);
        checkPeriod(period);
      } catch (err) {
        return sendProblem(request, reply, 400, (err as Error).message);
      }
      if (!mayReadReports(deps.taxpayers, who, taxNo)) {
        request.log.warn({ who: displayName(who), taxNo, period, format }, 'refused a report to a non-approver');
        return sendProblem(
          request,
          reply,
          403,
          `您不是 ${taxNo} 的审批人，不能下载其审计报告。You (${displayName(who)}) are not an approver of ${taxNo}: its audit report is not yours to read.`,
        );
      }
      try {
        const name = deps.taxpayers().get(taxNo)?.name;
        const facts = await gatherReportFacts(deps.client, taxNo, period, {
          ...(name ? { taxpayerName: name } : {}),
          now: deps.now,
        });
        const bytes = await renderReport(facts, format);
        request.log.info({ who: displayName(who), taxNo, period, format }, 'audit report downloaded');
        return reply
          .type(REPORT_CONTENT_TYPES[format])
          .header('content-disposition', `attachment; filename="${reportFileName(taxNo, period, format)}"`)
          .header('cache-control', 'no-store')
          .send(bytes);
      } catch (err) {
        if (err instanceof DeductionNotFoundError) return sendProblem(request, reply, 404, err.message);
        if (err instanceof ReportStateError) return sendProblem(request, reply, 409, err.message);
        if (err instanceof DeductionInputError) return sendProblem(request, reply, 400, err.message);
        if (err instanceof ReportFontError) {
          request.log.error({ err, taxNo, period }, 'no font for the PDF report');
          return sendProblem(request, reply, 500, `PDF 报告暂不可用 The PDF report is unavailable: ${err.message}`);
        }
        throw err;
      }
    });
  }
}
