/** The audit report's files: names, content types, and the bytes of each format. */
import type { Client } from '@temporalio/client';
import { gatherReportFacts, type ReportFacts } from './facts.js';
import { buildPdf, type ReportFont } from './pdf.js';
import { buildWorkbook } from './xlsx.js';

export const REPORT_FORMATS = ['xlsx', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const REPORT_CONTENT_TYPES: Record<ReportFormat, string> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pdf: 'application/pdf',
};

/** `audit-report-91440300591872133B-202611.xlsx` */
export function reportFileName(taxNo: string, period: string, format: ReportFormat): string {
  return `audit-report-${taxNo}-${period}.${format}`;
}

export function renderReport(facts: ReportFacts, format: ReportFormat, font?: ReportFont): Promise<Buffer> {
  return format === 'xlsx' ? buildWorkbook(facts) : buildPdf(facts, font);
}

/** Gathers a closed month's facts and renders each format asked for. */
export async function buildReports(
  client: Client,
  taxNo: string,
  period: string,
  formats: readonly ReportFormat[],
  opts: { taxpayerName?: string; font?: ReportFont; now?: () => Date } = {},
): Promise<{ facts: ReportFacts; files: { format: ReportFormat; name: string; bytes: Buffer }[] }> {
  const facts = await gatherReportFacts(client, taxNo, period, opts);
  const files = [];
  for (const format of formats) {
    files.push({
      format,
      name: reportFileName(taxNo, period, format),
      bytes: await renderReport(facts, format, opts.font),
    });
  }
  return { facts, files };
}
