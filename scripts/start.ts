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
import { TaxPeriod } from '../protocol/period.js';
import { filingWindowOf } from '../simulator/filingWindow.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox } from '../simulator/server.js';
import { createDeductionWorker } from '../workers/createWorker.js';
import { demoAccountLines, ensureDemoAccount } from '../inbox/demoAccount.js';
import { buildInbox } from '../inbox/server.js';
import { fixedDirectory } from '../inbox/taxpayers.js';
import { createLogger, installRuntimeLogging } from '../runtime/logging.js';
import { buildCodecServer } from '../security/codecServer.js';
import { dataConverterFromEnv, payloadCodecFromEnv } from '../security/payloadKeys.js';
import {
  decisionLines,
  DEMO_APPROVERS,
  DEMO_NAMES,
  DEMO_TAXPAYERS,
  demoPeriod,
  seedDemoTenant,
  waitForDecisionPoint,
} from './demo.js';
import { startDevServer } from './devServer.js';

// VAT_DATA_DIR: another data folder (the start-up benchmark uses a fresh temporary one).
const DATA_DIR = process.env.VAT_DATA_DIR
  ? `${process.env.VAT_DATA_DIR.replace(/\/+$/, '')}/`
  : fileURLToPath(new URL('../.data/', import.meta.url));
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
  if (await seedDemoTenant(admin, taxPeriod)) {
    logger.info({ taxPeriod, sandboxClock: filingWindowOf(taxPeriod).sandboxNow }, 'Seeded the sandbox demo tenant');
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
    const progress = await waitForDecisionPoint(client, `deduction-${taxNo}-${taxPeriod}`);
    lines.push(...decisionLines(taxNo, taxPeriod, progress));
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
