import { setTimeout as sleep } from 'node:timers/promises';
import { InvoiceCloudClient } from '../../activities/invoiceCloudClient.js';
import { invoiceCloudConfigFromEnv } from '../../activities/invoiceCloudConfig.js';
import { DeductionPurpose, StatisticOperation, StatisticStatus } from '../../protocol/codes.js';
import { lastDayOfPeriod } from '../../protocol/period.js';
import { planSelection } from '../../rules/selectionPolicy.js';

/**
 * Before its month starts, a taxpayer whose table someone already generated: a few invoices are
 * selected and the table generated through the gateway, as another system would have done. The
 * month then finds new candidates under a generated table, revokes it, selects the rest and
 * generates again, so the chaos run sends revokes too (and loses some of their replies).
 */
export async function pregenerateTable(
  sandboxUrl: string,
  taxNo: string,
  taxPeriod: string,
  today: string,
  count = 3,
): Promise<void> {
  const client = new InvoiceCloudClient(invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: sandboxUrl }));
  await client.call('taxLogin', { taxNo });
  const pool = await client.call('invoicePoolQuery', {
    taxNo,
    selectStatus: '0',
    invoiceDateEnd: lastDayOfPeriod(taxPeriod),
    pageNo: 1,
    pageSize: 1000,
  });
  const { candidates } = planSelection(pool.invoices, { taxPeriod, deductionDeadline: '9999-12-31', today });
  const lines = candidates.slice(0, count);
  if (lines.length === 0) throw new Error(`${taxNo} has no candidate to select before its month`);
  const select = await client.call('invoiceSelect', {
    taxNo,
    billType: '0',
    authenticateFlag: 1,
    deductionPurpose: DeductionPurpose.Deduct,
    asyncFlag: '1',
    invoices: lines,
  });
  if (select.taskNo)
    await settled(() => client.call('invoiceSelectQuery', { taxNo, taskNo: select.taskNo!, pageNo: 1, pageSize: 50 }));
  await client.call('statisticCreate', { taxNo, operateType: StatisticOperation.Generate, asyncFlag: '1' });
  for (let i = 0; i < 100; i++) {
    const status = (await client.call('statisticQuery', { taxNo })).createTjbbStatus.padStart(2, '0');
    if (status === StatisticStatus.Generated || status === StatisticStatus.GeneratedNotConfirmable) return;
    await sleep(100);
  }
  throw new Error(`the table of ${taxNo} was not generated before its month`);
}

/** Calls `read` until the bureau stops answering "still processing". */
async function settled(read: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await read();
      return;
    } catch (error) {
      if ((error as { kind?: string }).kind !== 'pending') throw error;
      await sleep(100);
    }
  }
  throw new Error('a select task did not settle');
}
