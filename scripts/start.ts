/**
 * `npm start`: the embedded stack on this machine. A Temporal dev server persisted to SQLite with
 * its Web UI, the invoice-cloud sandbox with the demo tenant, a worker and the approvers' inbox;
 * then the month is started for the demo taxpayers. The first start creates the inbox's demo
 * approver and prints its password once. Ctrl-C stops everything; a second run resumes from .data/.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { startMonthlyDeduction } from '../client/deductions.js';
import { likelyCurrentPeriod, TaxPeriod } from '../protocol/period.js';
import { approvalDeadline } from '../rules/approvalDeadline.js';
import { filingWindowContaining, filingWindowOf } from '../simulator/filingWindow.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox } from '../simulator/server.js';
import { createDeductionWorker } from '../workers/createWorker.js';
import { demoAccountLines, ensureDemoAccount, DEMO_ACCOUNT_ID } from '../inbox/demoAccount.js';
import { buildInbox } from '../inbox/server.js';
import { fixedDirectory } from '../inbox/taxpayers.js';
import { createLogger, installRuntimeLogging } from '../workers/logging.js';
import { progressQuery, type Progress } from '../workflows/contract.js';
import { buildCodecServer } from '../security/codecServer.js';
import { dataConverterFromEnv, payloadCodecFromEnv } from '../security/payloadKeys.js';
import { startDevServer } from './devServer.js';

// VAT_DATA_DIR: another data folder (the start-up benchmark uses a fresh temporary one).
const DATA_DIR = process.env.VAT_DATA_DIR
  ? `${process.env.VAT_DATA_DIR.replace(/\/+$/, '')}/`
  : fileURLToPath(new URL('../.data/', import.meta.url));
/** Demo taxpayers of the sandbox tenant with soft-certificate mode on (DESIGN.md §6). */
const DEMO_TAXPAYERS = ['91440300591872133B', '91440300MA5G9GK78Y'];
const DEMO_NAMES: Record<string, string> = {
  '91440300591872133B': '深圳市金蝶示例科技有限公司',
  '91440300MA5G9GK78Y': '深圳市示例贸易有限公司',
};
/** Who may decide the demo months: the inbox's demo account, and the name the CLI examples use. */
const DEMO_APPROVERS = [DEMO_ACCOUNT_ID, '王会计'];
const TERMINAL: readonly string[] = ['COMPLETED', 'REJECTED', 'EXPIRED', 'FAILED'];

const logger = createLogger('start');
installRuntimeLogging(logger);

function port(variable: string, fallback: number): number {
  const raw = process.env[variable];
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${variable}=${raw}: must be a TCP port number`);
  }
  return value;
}

/**
 * The demo's period: the one a person would be filing now, unless its approvals close within two
 * days (a demo started on the 14th would expire at once); then the current month, whose deadline
 * is weeks away (docs/testing.md).
 */
function demoPeriod(now: Date): string {
  const likely = likelyCurrentPeriod(now);
  const closes = approvalDeadline(filingWindowOf(likely).deductionDeadline).getTime();
  return closes - now.getTime() > 2 * 86_400_000 ? likely : filingWindowContaining(now).period;
}

async function waitForDecisionPoint(client: Client, workflowId: string): Promise<Progress | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  for (let i = 0; i < 600; i++) {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') {
      return { ...(await handle.query(progressQuery).catch(() => undefined)) } as Progress | undefined;
    }
    const progress = await handle.query(progressQuery).catch(() => undefined);
    if (progress && (progress.stage === 'AWAITING_APPROVAL' || TERMINAL.includes(progress.stage))) return progress;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

async function main(): Promise<void> {
  mkdirSync(DATA_DIR, { recursive: true });
  const temporalPort = port('TEMPORAL_PORT', 7233);
  const uiPort = port('TEMPORAL_UI_PORT', 8233);
  const sandboxPort = port('SANDBOX_PORT', 8790);
  const inboxPort = port('INBOX_PORT', 8088);

  // With payload keys configured, the Web UI shows decoded payloads through a local codec server.
  const codec = payloadCodecFromEnv();
  const codecPort = port('CODEC_PORT', 8888);
  const codecServer = codec
    ? buildCodecServer({ codec, allowedOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`] })
    : undefined;
  if (codecServer) await codecServer.listen({ port: codecPort, host: '127.0.0.1' });

  logger.info('Starting the Temporal dev server (SQLite in .data/temporal.sqlite)');
  const temporal = await startDevServer({
    port: temporalPort,
    uiPort,
    ...(codecServer ? { uiCodecEndpoint: `http://127.0.0.1:${codecPort}` } : {}),
    dbFile: `${DATA_DIR}temporal.sqlite`,
    durable: true,
    logFile: `${DATA_DIR}temporal.log`,
  });
  const sandbox = await startSandbox({ port: sandboxPort, dbFile: `${DATA_DIR}sandbox.sqlite` });
  const admin = new SandboxAdmin(sandbox.url);

  const taxPeriod = process.env.DEMO_TAX_PERIOD ?? demoPeriod(new Date());
  if (!TaxPeriod.safeParse(taxPeriod).success) throw new Error(`DEMO_TAX_PERIOD=${taxPeriod}: must be YYYYMM`);
  const clock = filingWindowOf(taxPeriod).sandboxNow;
  const state = await admin.getTaxpayer(DEMO_TAXPAYERS[0]!).catch(() => undefined);
  if (!state || state.taxPeriod !== taxPeriod) {
    await admin.seedDemo({ taxPeriod, now: clock, invoicesPerTaxpayer: 40, seed: 2026 });
    await admin.setClock(clock);
    await admin.setTaskDelays({ selectMs: 3000, statisticMs: 3000, confirmMs: 3000 });
    logger.info({ taxPeriod, sandboxClock: clock }, 'Seeded the sandbox demo tenant');
  }

  const native = await NativeConnection.connect({ address: temporal.address });
  const worker = await createDeductionWorker({
    connection: native,
    namespace: temporal.namespace,
    invoiceCloud: invoiceCloudConfigFromEnv({ ...process.env, INVOICE_CLOUD_BASE_URL: sandbox.url }),
  });
  const running = worker.run();

  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter: dataConverterFromEnv() });
  for (const taxNo of DEMO_TAXPAYERS) {
    const started = await startMonthlyDeduction(client, { taxNo, taxPeriod, approvers: DEMO_APPROVERS });
    logger.info(
      { workflowId: started.workflowId },
      started.alreadyStarted ? 'Already started earlier: resuming' : 'Started the month',
    );
  }

  // The inbox in demo mode: accounts in the data folder, the demo taxpayers as its registry.
  const accountsFile = process.env.INBOX_ACCOUNTS_FILE?.trim() || `${DATA_DIR}inbox-accounts.json`;
  const demoAccount = await ensureDemoAccount(accountsFile);
  const inbox = await buildInbox({
    client,
    taxpayers: fixedDirectory(
      DEMO_TAXPAYERS.map((taxNo) => [taxNo, { name: DEMO_NAMES[taxNo], approvers: DEMO_APPROVERS }]),
    ),
    security: { accountsFile },
  });
  await inbox.listen({ port: inboxPort, host: '127.0.0.1' });

  const lines = [
    '',
    `Temporal Web UI:  ${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows`,
    `Sandbox:          ${sandbox.url}  (sandbox clock ${(await admin.getClock()).now})`,
    `审批收件箱 Inbox:  http://127.0.0.1:${inboxPort}/`,
    ...demoAccountLines(demoAccount, accountsFile),
    '',
  ];
  for (const taxNo of DEMO_TAXPAYERS) {
    const workflowId = `deduction-${taxNo}-${taxPeriod}`;
    const progress = await waitForDecisionPoint(client, workflowId);
    const stage = progress?.stage ?? 'unknown';
    lines.push(`${workflowId}: ${stage}`);
    if (stage === 'AWAITING_APPROVAL') {
      const s = progress?.statistic;
      if (s)
        lines.push(
          `  统计表 statistic: ${s.deductibleCount} invoices, amount ${s.deductibleAmount}, tax ${s.deductibleTax}`,
        );
      lines.push(`  approve: npm run cli -- approve --tax-no ${taxNo} --period ${taxPeriod} --approver "王会计"`);
      lines.push(
        `  reject:  npm run cli -- reject --tax-no ${taxNo} --period ${taxPeriod} --approver "王会计" --reason "..."`,
      );
    }
  }
  lines.push(
    '',
    `Or decide in the inbox: http://127.0.0.1:${inboxPort}/ (account ${demoAccount.id})`,
    'Status: npm run cli -- list   |   Stop: Ctrl-C (a second npm start resumes where this one stopped)',
  );
  console.log(lines.join('\n'));

  await running; // The worker stops on SIGINT/SIGTERM.
  logger.info('Stopping the stack');
  await inbox.close();
  await connection.close();
  await native.close();
  await sandbox.close();
  await codecServer?.close();
  await temporal.stop();
}

main().catch((error) => {
  logger.error({ err: error }, 'npm start failed');
  process.exit(1);
});
