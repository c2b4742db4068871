import { TEST_PERIOD } from './calendar.js';
import type { SandboxAdmin } from '../../simulator/adminClient.js';

/**
 * Adds a taxpayer to the sandbox's demo tenant (soft-certificate mode on, period change
 * supported, confirmation password 1234567) with `invoices` generated pool invoices of the period.
 */
export async function addTaxpayer(
  admin: SandboxAdmin,
  taxNo: string,
  { name = `测试纳税人${taxNo.slice(-4)}`, invoices = 0, seed = 1, confirmPassword = '1234567' } = {},
): Promise<void> {
  await admin.upsertTaxpayer({
    taxNo,
    name,
    softCertificate: true,
    periodChangeSupported: true,
    taxPeriod: TEST_PERIOD,
    confirmPassword,
  });
  if (invoices > 0) await admin.generateInvoices(taxNo, { count: invoices, seed, period: TEST_PERIOD });
}
