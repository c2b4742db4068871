/**
 * The operator CLI for MonthlyDeductionWorkflow (DESIGN.md §6):
 *   npm run cli -- start|status|approve|reject|list|retry|report ...   (or the package bin `vat-deduction`)
 * Every argument is validated before Temporal is contacted.
 * Exit codes: 0 ok, 1 unexpected error, 2 bad input, 3 Temporal unreachable, 4 workflow not found / wrong state,
 * 5 decision refused by the workflow, 6 approval voided (the table changed; the new one awaits approval).
 */
import { describeStatisticStatus } from '../protocol/codes.js';
import { readFileSync, realpathSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { formatShanghaiTime, likelyCurrentPeriod } from '../protocol/period.js';
import { categoryName } from '../rules/statisticObject.js';
import {
  CANDIDATE_SOURCE_KINDS,
  DECISION_POLICIES,
  STAGES,
  Stage,
  type DecisionPolicy,
  type Progress,
  type StatisticLine,
} from '../workflows/contract.js';
import { decisionSigningKey, KEY_ID_PATTERN } from '../security/decisionSigning.js';
import { plannedVersusBureauText } from '../workflows/plannedVersusBureauText.js';
import {
  DecisionRefusedError,
  DeductionInputError,
  DeductionNotFoundError,
  DeductionStateError,
  approve,
  checkPeriod,
  checkStage,
  checkTaxNo,
  getProgress,
  listDeductions,
  reject,
  startMonthlyDeduction,
  type DecisionResult,
  type DecisionSigner,
  type DeductionRow,
  type DeductionStatus,
} from './deductions.js';
import { addAccountingCommands } from './accountingCommands.js';
import { addDoctorCommand } from './doctorCommand.js';
import { addReportCommand } from './reportCommand.js';
import { addInboxAccountCommands } from './inboxAccounts.js';
import {
  TemporalConfigError,
  TemporalUnreachableError,
  createTemporalClient,
  temporalSettingsFromEnv,
} from './temporalConnection.js';
import { DEFAULT_REGISTRY_FILE, RegistryError } from './registry.js';
import { approversForStart } from './startApprovers.js';
import { tenantForStart, TenantOptionError } from './tenantOption.js';
import { addScheduleCommands } from './scheduleCommands.js';
import { candidateSourceFromOptions } from './candidateSourceOption.js';
import { INVOICE_FILE_COLUMNS } from '../protocol/invoicesFile.js';
import { watchStatus } from './watchStatus.js';
import { describeResetPoint, retryMonth, type RetryCandidate } from './retryMonth.js';
import { isRetryableStatus, retryCommand } from '../workflows/launcherContract.js';

export const EXIT_OK = 0;
export const EXIT_UNEXPECTED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_UNREACHABLE = 3;
export const EXIT_NOT_FOUND_OR_STATE = 4;
/** The workflow refused the decision (not an approver, already decided, stale table, wrong stage, unsigned, ...). */
export const EXIT_DECISION_REFUSED = 5;
/** The approval was taken, then voided: the bureau's table changed; the new table awaits approval. */
export const EXIT_APPROVAL_VOIDED = 6;

/** An error that ends the CLI with a given exit code. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  /** Whether output goes to a terminal (status --watch redraws the screen then). */
  isTty?: boolean;
  /** Whether input comes from a terminal: `approve` asks there for the digest it approves. */
  isStdinTty?: boolean;
  /** Asks a question on the terminal and answers the line typed. */
  ask?: (question: string) => Promise<string>;
  /** Opens the Temporal client (default: from `env`). Only called after every argument is valid. */
  connect: () => Promise<Client>;
}

function defaultIo(partial: Partial<CliIo>): CliIo {
  const env = partial.env ?? process.env;
  return {
    out: partial.out ?? ((text) => process.stdout.write(text)),
    err: partial.err ?? ((text) => process.stderr.write(text)),
    env,
    now: partial.now ?? (() => new Date()),
    isTty: partial.isTty ?? (partial.out ? false : Boolean(process.stdout.isTTY)),
    isStdinTty: partial.isStdinTty ?? (partial.out ? false : Boolean(process.stdin.isTTY)),
    ask:
      partial.ask ??
      (async (question) => {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        try {
          return await rl.question(question);
        } finally {
          rl.close();
        }
      }),
    connect:
      partial.connect ??
      (async () => {
        const settings = temporalSettingsFromEnv(env);
        return createTemporalClient(settings);
      }),
  };
}

// ---- argument validation (all before connecting) -------------------------------------------------

function bad(message: string): never {
  throw new CliError(message, EXIT_BAD_INPUT);
}

function validTaxNo(value: string): string {
  try {
    checkTaxNo(value, '--tax-no');
  } catch (err) {
    const upper = value.toUpperCase();
    const hint =
      upper !== value &&
      !(() => {
        try {
          checkTaxNo(upper);
          return false;
        } catch {
          return true;
        }
      })()
        ? ` (did you mean ${upper}? letters must be upper case)`
        : '';
    bad(`${(err as Error).message}${hint}`);
  }
  return value;
}

function validPeriod(value: string, option: string): string {
  try {
    checkPeriod(value, option);
  } catch (err) {
    bad((err as Error).message);
  }
  return value;
}

function validStage(value: string): string {
  try {
    checkStage(value, '--stage');
  } catch (err) {
    bad((err as Error).message);
  }
  return value;
}

const IsoInstant = z.iso.datetime({ offset: true });
function validInstant(value: string, option: string): string {
  if (!IsoInstant.safeParse(value).success || Number.isNaN(Date.parse(value))) {
    bad(`${option} ${value}: must be an ISO 8601 instant with an offset, e.g. 2026-12-14T00:00:00+08:00`);
  }
  return value;
}

/** Hours of bureau outage a month rides out before it fails (workflows/contract.ts outageLimitHours). */
function validOutageHours(value: string, option: string): number {
  const hours = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(hours > 0) || hours > 24 * 62) {
    bad(`${option} ${value}: must be a number of hours above 0 and at most ${24 * 62}, e.g. 6 or 0.5`);
  }
  return hours;
}

function validText(value: string | undefined, option: string, max: number): string {
  const trimmed = value?.trim() ?? '';
  if (!trimmed) bad(`${option}: must not be empty`);
  if (trimmed.length > max) bad(`${option}: at most ${max} characters, got ${trimmed.length}`);
  return trimmed;
}

const Digest = /^[0-9a-f]{8}$/;
function validDigest(value: string): string {
  if (!Digest.test(value))
    bad(`--digest ${value}: must be the 8 hex characters of the statistic digest, as status shows it`);
  return value;
}

/** --signing-key and --key-id, read and checked before connecting. */
function signerFrom(opts: { signingKey?: string; keyId?: string }): DecisionSigner | undefined {
  if (opts.signingKey === undefined && opts.keyId === undefined) return undefined;
  if (opts.signingKey === undefined || opts.keyId === undefined) bad('--signing-key and --key-id go together');
  if (!KEY_ID_PATTERN.test(opts.keyId)) bad(`--key-id ${opts.keyId}: must be 1-64 letters, digits, ".", "_" or "-"`);
  let pem: string;
  try {
    pem = readFileSync(opts.signingKey, 'utf8');
  } catch (err) {
    bad(
      `--signing-key ${opts.signingKey}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  try {
    return { privateKey: decisionSigningKey(pem), keyId: opts.keyId };
  } catch (err) {
    bad(`--signing-key ${opts.signingKey}: ${(err as Error).message}`);
  }
}

interface DecisionCliOptions {
  taxNo: string;
  period: string;
  approver: string;
  digest?: string;
  signingKey?: string;
  keyId?: string;
  json?: boolean;
}

/**
 * The digest to decide on: --digest, or the table shown (the status block) and its digest typed
 * back by the operator. Never the current one taken silently.
 */
async function confirmedDigest(
  io: CliIo,
  client: Client,
  taxNo: string,
  period: string,
  kind: 'approve' | 'reject',
  signer: DecisionSigner | undefined,
): Promise<string> {
  const status = await getProgress(client, taxNo, period);
  io.out(formatStatus(status));
  const p = status.progress;
  if (status.status !== 'RUNNING' || p.stage !== Stage.AwaitingApproval) {
    throw new DeductionStateError(
      `Cannot ${kind} ${status.workflowId}: it is ${status.status}, stage ${p.stage}, not ${Stage.AwaitingApproval}`,
    );
  }
  if (p.decisionPolicy === 'signed' && !signer) {
    throw new CliError(
      `${taxNo} takes only signed decisions (decisionPolicy signed): give --signing-key and --key-id; nothing was sent`,
      EXIT_DECISION_REFUSED,
    );
  }
  const digest = p.statistic?.digest;
  if (!digest) throw new DeductionStateError(`${status.workflowId} presents no statistic table`);
  const verb = kind === 'approve' ? '同意 approve' : '驳回 reject';
  const typed = (
    await io.ask!(`\nTo ${verb} the statistic table above, type its digest (${digest}); anything else cancels: `)
  ).trim();
  if (typed !== digest) throw new CliError(`not confirmed (typed "${typed}"): nothing was sent`, EXIT_BAD_INPUT);
  return digest;
}

/** Prints what the decision came to; a voided approval ends with exit code 6. */
function reportDecision(io: CliIo, result: DecisionResult, opts: DecisionCliOptions): void {
  if (opts.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
  if (result.outcome === 'voided') {
    throw new CliError(
      `${result.message}. Check the new table and approve it: npm run cli -- approve --tax-no ${opts.taxNo} --period ${opts.period} --approver "${opts.approver}"`,
      EXIT_APPROVAL_VOIDED,
    );
  }
  if (!opts.json) io.out(`${result.workflowId}: ${result.message}.\n`);
}

interface StartOptions {
  taxNo: string;
  period?: string;
  approvalDeadline?: string;
  outageLimitHours?: string;
  changePeriodTo?: string;
  invoicesFile?: string;
  source?: string;
  decisionPolicy?: DecisionPolicy;
  approver: string[];
  registry: string;
  tenant?: string;
}

// ---- output --------------------------------------------------------------------------------------

function line(label: string, value: string | number | undefined): string {
  return `${`${label}:`.padEnd(34)} ${value ?? '-'}\n`;
}

function statisticLines(items: StatisticLine[], total?: StatisticLine): string {
  if (items.length === 0 && !total) return '';
  const header = [
    'category 类别',
    'deductible 可抵扣: count',
    'amount',
    'tax',
    'not deductible 不抵扣: count',
    'amount',
    'tax',
  ];
  const rows = [...items, ...(total ? [total] : [])].map((i) => [
    `${i.category} ${categoryName(i.category)}`,
    String(i.deductibleCount),
    i.deductibleAmount,
    i.deductibleTax,
    String(i.notDeductibleCount),
    i.notDeductibleAmount,
    i.notDeductibleTax,
  ]);
  return table(header, rows, '  ');
}

export function table(header: string[], rows: string[][], indent = ''): string {
  const width = (s: string) => [...s].reduce((n, ch) => n + (/[\u2E80-\uFFEF]/.test(ch) ? 2 : 1), 0);
  const widths = header.map((h, c) => Math.max(width(h), ...rows.map((r) => width(r[c] ?? ''))));
  const fmt = (cells: string[]) =>
    indent +
    cells
      .map((cell, c) => cell + ' '.repeat((widths[c] ?? 0) - width(cell)))
      .join('  ')
      .trimEnd() +
    '\n';
  return fmt(header) + rows.map(fmt).join('');
}

/** The readable status block. */
export function formatStatus(status: DeductionStatus): string {
  const p: Progress = status.progress;
  let text = '';
  text += line('Workflow 工作流', `${status.workflowId} (${status.status})`);
  text += line('Tax No 纳税人识别号', p.taxNo);
  text += line('Period 税款所属期', p.taxPeriod);
  text += line('Stage 阶段', p.stage);
  text += line('Deduction deadline 勾选截止日期', p.deductionDeadline);
  text += line('Approval deadline 审批截止时间', p.approvalDeadline && formatShanghaiTime(p.approvalDeadline));
  text += line('Started 开始时间', status.startTime.toISOString());
  if (status.closeTime) text += line('Closed 结束时间', status.closeTime.toISOString());
  text += line('Updated 更新时间', p.updatedAt);
  if (p.selection) {
    const s = p.selection;
    text += line(
      'Selection 勾选',
      `candidates ${s.candidates}, submitted ${s.submitted}, selected ${s.selected}, ` +
        `already selected ${s.alreadySelected}, failed ${s.failed}`,
    );
    // Candidate source and the invoices it skipped (with an invoices file's row numbers).
    if (s.source) text += line('Candidates from 候选来源', s.source);
    for (const [reason, count] of Object.entries(s.skipped ?? {})) {
      const rows = s.skippedRows?.[reason as keyof typeof s.skipped];
      text += `  skipped 未选: ${reason} ${count}${rows ? ` (rows ${rows})` : ''}\n`;
    }
    for (const f of s.failures) {
      text += `  failed 失败: ${f.invoiceCode}/${f.invoiceNo} code ${f.resultCode}: ${f.resultMsg}\n`;
    }
    if (s.failed > s.failures.length) text += `  ... and ${s.failed - s.failures.length} more failures\n`;
  }
  if (p.statistic) {
    const st = p.statistic;
    text += line(
      'Statistic 统计表',
      `status ${st.statisticStatus} ${describeStatisticStatus(st.statisticStatus)}`.trim() +
        `, updated ${st.updateTime}`,
    );
    text += line(
      'Deductible total 可抵扣合计',
      `count ${st.deductibleCount}, amount ${st.deductibleAmount}, tax ${st.deductibleTax}`,
    );
    text += statisticLines(st.items, st.total);
  }
  if (p.plannedVersusBureau)
    text += line('Planned vs bureau 计划/税局', plannedVersusBureauText(p.plannedVersusBureau));
  if (p.decisionPolicy === 'signed') text += line('Decision policy 审批策略', 'signed decisions only 仅接受签名审批');
  if (p.decision) {
    const d = p.decision;
    const verb = d.decision === 'approved' ? 'approved 已同意' : 'rejected 已驳回';
    const signed = d.signature ? `, signed with key ${d.signature.keyId} at ${d.signature.signedAt}` : '';
    text += line(
      'Decision 审批结果',
      `${verb} by ${d.approver} at ${d.decidedAt}${signed}${d.comment ? `: ${d.comment}` : ''}`,
    );
  }
  if (p.lastBureauError) text += line('Bureau message 税局返回', p.lastBureauError);
  if (status.result) {
    text += line('Outcome 结果', status.result.outcome);
    if (status.result.confirmedAt) text += line('Confirmed 确认时间', status.result.confirmedAt);
    if (status.result.periodAfterChange)
      text += line('Period after change 变更后所属期', status.result.periodAfterChange);
    text += line('Note 说明', status.result.note);
  }
  for (const r of status.progress.refusedSignals ?? []) {
    const what = r.via === 'update' ? `${r.signal} update` : r.signal;
    text += `  refused ${what} 未采纳的决定 (${r.at}${r.approver ? `, ${r.approver}` : ''}): ${r.reason}\n`;
  }
  if (status.failure) text += line('Failure 失败原因', status.failure);
  if (isRetryableStatus(status.status)) {
    text += `To resume this month from where it stopped: ${retryCommand(p.taxNo, p.taxPeriod)}\n`;
  }
  if (status.source === 'search-attributes' && status.status === 'RUNNING') {
    text += '(No worker answered the progress query: stage taken from the DeductionStage search attribute.)\n';
  }
  return text;
}

/** What `retry` found, printed before it acts. */
function formatRetryCandidate(c: RetryCandidate): string {
  let text = '';
  text += line('Workflow 工作流', `${c.workflowId}, run ${c.runId}`);
  text += line('Status 状态', `${c.status}${c.closeTime ? ` at ${c.closeTime.toISOString()}` : ''}`);
  text += line('Failure 失败原因', c.failure);
  if (c.stage) text += line('Stage 阶段', `${c.stage}${c.stageBefore ? ` (in ${c.stageBefore} when it stopped)` : ''}`);
  text += line('Reset point 重置点', describeResetPoint(c.resetPoint));
  return text;
}

function formatRows(rows: DeductionRow[]): string {
  if (rows.length === 0) return 'No deduction workflows match.\n';
  return table(
    ['WORKFLOW ID', 'TAX NO', 'PERIOD', 'STAGE', 'STATUS', 'STARTED'],
    rows.map((r) => [
      r.workflowId,
      r.taxNo ?? '-',
      r.taxPeriod ?? '-',
      r.stage ?? '-',
      r.status,
      r.startTime.toISOString(),
    ]),
  );
}

// ---- program -------------------------------------------------------------------------------------

async function withClient<T>(io: CliIo, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await io.connect();
  try {
    return await fn(client);
  } finally {
    await client.connection.close().catch(() => undefined);
  }
}

const ENV_HELP = `
Environment:
  TEMPORAL_ADDRESS     Temporal frontend host:port (default 127.0.0.1:7233)
  TEMPORAL_NAMESPACE   namespace (default "default")
  TEMPORAL_API_KEY, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH
                       optional API key / TLS (earlier names TEMPORAL_TLS_CERT, _KEY, _CA still work)
  TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE   a profile of a Temporal config file (the temporal CLI's)
  OTEL_EXPORTER_OTLP_ENDPOINT              send traces over OTLP/HTTP
  INVOICE_CLOUD_TENANTS_FILE               the workers' tenants file, to check --tenant against (ids only)

Exit codes: 0 ok, 1 unexpected error, 2 bad input, 3 Temporal unreachable, 4 workflow not found or in the wrong state,
5 decision refused by the workflow (the reason is printed), 6 approval voided (the table changed after it).
`;

/** Builds the commander program. Errors are thrown (CliError / CommanderError), never process.exit. */
export function buildProgram(ioOverrides: Partial<CliIo> = {}): Command {
  const io = defaultIo(ioOverrides);
  const program = new Command('vat-deduction')
    .description(
      'Operate the monthly VAT input-invoice deduction workflow (增值税进项发票抵扣勾选) on Temporal: ' +
        'start a taxpayer-month, inspect it, approve or reject its statistic table, list runs, ' +
        'resume a month that failed or was cancelled.',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  npm run cli -- start --tax-no 91440300591872133B --period 202610 --approver 张三
  npm run cli -- status --tax-no 91440300591872133B --period 202610
  npm run cli -- approve --tax-no 91440300591872133B --period 202610 --approver "张三" --comment "核对无误"
  npm run cli -- approve --tax-no 91440300591872133B --period 202610 --approver "张三" --digest 3f2a9c01
  npm run cli -- reject --tax-no 91440300591872133B --period 202610 --approver "张三" --reason "金额不符"
  npm run cli -- list --stage AWAITING_APPROVAL
  npm run cli -- retry --tax-no 91440300591872133B --period 202610 --reason "确认密码已更正"
${ENV_HELP}`,
    );

  program
    .command('start')
    .description('Start the deduction workflow for one taxpayer-month (never twice for the same month)')
    .requiredOption('--tax-no <taxNo>', 'taxpayer: 18-character unified social credit code (纳税人识别号)')
    .option('--period <YYYYMM>', "tax period 税款所属期 (default: the likely current period from today's date)")
    .option(
      '--approver <id>',
      'who may approve or reject (inbox account id or OpenID subject / e-mail); repeat for several. ' +
        "Default: the registry entry's approvers",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--registry <file>',
      'taxpayer registry to take approvers (and decisionPolicy) from when no --approver is given',
      io.env.TAXPAYER_REGISTRY ?? DEFAULT_REGISTRY_FILE,
    )
    .option(
      '--tenant <id>',
      "the tenant of the tenants file (INVOICE_CLOUD_TENANTS_FILE) that serves this taxpayer; default: the registry entry's, else the workers' INVOICE_CLOUD_* tenant",
    )
    .option('--approval-deadline <ISO>', 'approval deadline instant, e.g. 2026-12-14T00:00:00+08:00')
    .option('--change-period-to <YYYYMM>', 'after confirmation, move the bureau period on to this one')
    .option(
      '--outage-limit-hours <hours>',
      'fail the month when the bureau does not answer for this long in one step (default: retry until the deduction deadline)',
    )
    .addOption(
      new Option(
        '--decision-policy <policy>',
        "'signed': only decisions signed by a key the workers know decide (docs/decision-signing.md); default unsigned",
      ).choices(DECISION_POLICIES),
    )
    // Candidate source (client/candidateSourceOption.ts).
    .option('--invoices-file <file>', 'select exactly the invoices of this CSV (UTF-8) or .xlsx file')
    .addOption(
      new Option('--source <kind>', 'where candidates come from (default: the sandbox pool, sandbox only)').choices(
        CANDIDATE_SOURCE_KINDS,
      ),
    )
    .addHelpText(
      'after',
      `
The bureau's current period (taxperiodQuery) is authoritative: when it differs from --period the workflow
reports the mismatch instead of selecting invoices.

Approvers: a month is started only with someone who may approve it: --approver (repeatable), or else the
taxpayer's entry in the registry (--registry, TAXPAYER_REGISTRY, default ${DEFAULT_REGISTRY_FILE}), whose
decisionPolicy is used too unless --decision-policy is given. Nothing starts without one (exit 2).

Candidates: --source bureau-download (进项表头归集, for a real tenant), --invoices-file F (a CSV or .xlsx with
the columns ${INVOICE_FILE_COLUMNS.join(', ')}; every row is checked first and nothing starts on a bad one),
or by default the sandbox's own pool query (sandbox and demo only).

Examples:
  npm run cli -- start --tax-no 91440300591872133B --approver wang.kuaiji
  npm run cli -- start --tax-no 91440300591872133B --period 202610 --approver wang.kuaiji --approver li.jingli \\
      --approval-deadline 2026-11-14T00:00:00+08:00
  npm run cli -- start --tax-no 91440300591872133B --period 202610 --invoices-file invoices-202610.csv
      (approvers from config/taxpayers.json)
`,
    )
    .action(async (opts: StartOptions) => {
      const taxNo = validTaxNo(opts.taxNo);
      const inferred = opts.period === undefined;
      const period = inferred ? likelyCurrentPeriod(io.now()) : validPeriod(opts.period!, '--period');
      const approvalDeadline =
        opts.approvalDeadline !== undefined ? validInstant(opts.approvalDeadline, '--approval-deadline') : undefined;
      const changePeriodTo =
        opts.changePeriodTo !== undefined ? validPeriod(opts.changePeriodTo, '--change-period-to') : undefined;
      const outageLimitHours =
        opts.outageLimitHours !== undefined
          ? validOutageHours(opts.outageLimitHours, '--outage-limit-hours')
          : undefined;
      const named = opts.approver.map((value) => validText(value, '--approver', 64));
      const { approvers, source: approversFrom, decisionPolicy } = approversForStart(taxNo, named, opts.registry);
      const policy = opts.decisionPolicy ?? decisionPolicy;
      const { tenant, source: tenantFrom } = tenantForStart(taxNo, opts.tenant, opts.registry, io.env);
      const { candidateSource, stored } = await candidateSourceFromOptions(opts, io.env);
      if (stored) {
        io.out(`Invoices file ${stored.fileName}: ${stored.rows} rows checked, stored as ${stored.path}.\n`);
      }
      const started = await withClient(io, (client) =>
        startMonthlyDeduction(client, {
          taxNo,
          taxPeriod: period,
          ...(tenant ? { tenant } : {}),
          ...(approvalDeadline ? { approvalDeadline } : {}),
          ...(changePeriodTo ? { changePeriodTo } : {}),
          ...(outageLimitHours !== undefined ? { outageLimitHours } : {}),
          ...(candidateSource ? { candidateSource } : {}),
          approvers,
          ...(policy ? { decisionPolicy: policy } : {}),
        }),
      );
      if (started.alreadyStarted && isRetryableStatus(started.existingStatus)) {
        io.out(
          `Already ran: ${started.workflowId} (run ${started.runId ?? 'unknown'}) ended ${started.existingStatus}; ` +
            'nothing new was started (a taxpayer-month runs once).\n' +
            `To resume it from where it stopped: ${retryCommand(taxNo, period)}\n` +
            `What failed: npm run cli -- status --tax-no ${taxNo} --period ${period}\n`,
        );
      } else if (started.alreadyStarted) {
        io.out(
          `Already started: ${started.workflowId} exists (run ${started.runId ?? 'unknown'}); nothing new was started.\n` +
            `A taxpayer-month runs once. See: status --tax-no ${taxNo} --period ${period}\n`,
        );
      } else {
        io.out(
          `Started ${started.workflowId} (run ${started.runId ?? 'unknown'}) for taxNo ${taxNo}, period ${period}.\n`,
        );
      }
      if (!started.alreadyStarted) {
        io.out(
          `Approvers 审批人: ${approvers.join(', ')} (from ${approversFrom}); decisions: ${policy ?? 'unsigned'}.\n`,
        );
        if (tenant) io.out(`Tenant 租户: ${tenant} (from ${tenantFrom}).\n`);
      }
      if (inferred) io.out(`Period ${period} was inferred from today's date (no --period given).\n`);
      io.out(
        "Note: the tax bureau's current period is authoritative; if it is not " +
          `${period}, the workflow reports the mismatch.\n`,
      );
    });

  program
    .command('status')
    .description("Show a taxpayer-month's progress: stage, deadlines, selection, statistic table, decision")
    .requiredOption('--tax-no <taxNo>', 'taxpayer (纳税人识别号)')
    .requiredOption('--period <YYYYMM>', 'tax period 税款所属期')
    .option('--json', 'print JSON (with --watch: one JSON line per change)')
    .option('--watch [seconds]', 'refresh every N seconds (default 2) until the workflow closes')
    .addHelpText(
      'after',
      '\nExamples:\n  npm run cli -- status --tax-no 91440300591872133B --period 202610 --json\n' +
        '  npm run cli -- status --tax-no 91440300591872133B --period 202610 --watch\n',
    )
    .action(async (opts: { taxNo: string; period: string; json?: boolean; watch?: boolean | string }) => {
      const taxNo = validTaxNo(opts.taxNo);
      const period = validPeriod(opts.period, '--period');
      if (opts.watch === undefined) {
        const status = await withClient(io, (client) => getProgress(client, taxNo, period));
        io.out(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
        return;
      }
      const seconds = opts.watch === true ? 2 : Number(opts.watch);
      if (!(seconds >= 0.1 && seconds <= 3600)) bad(`--watch ${opts.watch}: must be 0.1-3600 seconds`);
      await withClient(io, (client) =>
        watchStatus(client, taxNo, period, seconds * 1000, (status, changed) => {
          if (opts.json) {
            if (changed) io.out(`${JSON.stringify(status)}\n`);
          } else {
            const clear = io.isTty ? '\x1b[2J\x1b[H' : changed ? '\n' : '';
            if (io.isTty || changed)
              io.out(`${clear}${formatStatus(status)}(watching every ${seconds}s, Ctrl-C to stop)\n`);
          }
        }),
      );
    });

  program
    .command('approve')
    .description('Approve the statistic table (统计表) of a taxpayer-month that is AWAITING_APPROVAL')
    .requiredOption('--tax-no <taxNo>', 'taxpayer (纳税人识别号)')
    .requiredOption('--period <YYYYMM>', 'tax period 税款所属期')
    .requiredOption('--approver <name>', 'who approves (审批人), recorded for audit')
    .option('--comment <text>', 'comment (审批意见)')
    .option(
      '--digest <digest>',
      'the statistic digest you approve, as status shows it (without it the table is shown and you type its digest; required when stdin is not a terminal)',
    )
    .option(
      '--signing-key <file>',
      'sign the approval with this Ed25519 private key (PEM); needed under the signed policy',
    )
    .option('--key-id <id>', "the signing key's id in the workers' DECISION_VERIFY_KEYS")
    .option('--json', 'print the outcome as JSON')
    .addHelpText(
      'after',
      `
The approval is a Workflow Update: the workflow answers once it has read the bureau's table again.
Exit codes: 0 accepted (the month goes on to confirm), 5 refused (the reason is printed: not an approver,
already decided, stale table, wrong stage, unsigned under the signed policy, a signature that does not
verify), 6 voided (the table changed after the approval: the new table awaits approval), 4 the month is
not running or not awaiting approval.

Examples:
  npm run cli -- approve --tax-no 91440300591872133B --period 202610 --approver "张三" --comment "核对无误"
  npm run cli -- approve --tax-no 91440300591872133B --period 202610 --approver "张三" --digest 3f2a9c01
  npm run cli -- approve --tax-no 91440300591872133B --period 202610 --approver "张三" --digest 3f2a9c01 \\
      --signing-key keys/zhangsan.pem --key-id ops-zhangsan-2026
`,
    )
    .action(async (opts: DecisionCliOptions & { comment?: string }) => {
      const taxNo = validTaxNo(opts.taxNo);
      const period = validPeriod(opts.period, '--period');
      const approver = validText(opts.approver, '--approver', 64);
      if (opts.comment !== undefined && opts.comment.length > 500) {
        bad(`--comment: at most 500 characters, got ${opts.comment.length}`);
      }
      const given = opts.digest !== undefined ? validDigest(opts.digest) : undefined;
      const signer = signerFrom(opts);
      if (given === undefined && !io.isStdinTty) {
        bad(
          '--digest: required when stdin is not a terminal (the digest of the table you approve, as status shows it)',
        );
      }
      const result = await withClient(io, async (client) => {
        const statisticDigest = given ?? (await confirmedDigest(io, client, taxNo, period, 'approve', signer));
        return approve(
          client,
          taxNo,
          period,
          { approver, statisticDigest, ...(opts.comment ? { comment: opts.comment } : {}) },
          { ...(signer ? { signer } : {}) },
        );
      });
      reportDecision(io, result, { ...opts, approver });
    });

  program
    .command('reject')
    .description('Reject the statistic table of a taxpayer-month that is AWAITING_APPROVAL (it is revoked)')
    .requiredOption('--tax-no <taxNo>', 'taxpayer (纳税人识别号)')
    .requiredOption('--period <YYYYMM>', 'tax period 税款所属期')
    .requiredOption('--approver <name>', 'who rejects (审批人), recorded for audit')
    .requiredOption('--reason <text>', 'why (驳回原因)')
    .option('--digest <digest>', 'the statistic digest you reject (refused if the table changed); needed when signing')
    .option(
      '--signing-key <file>',
      'sign the rejection with this Ed25519 private key (PEM); needed under the signed policy',
    )
    .option('--key-id <id>', "the signing key's id in the workers' DECISION_VERIFY_KEYS")
    .option('--json', 'print the outcome as JSON')
    .addHelpText(
      'after',
      `
Exit codes: 0 rejected (the month revokes the table), 5 refused (the reason is printed), 4 the month is not
running or not awaiting approval. A signed rejection names the table: --digest, or on a terminal the table
is shown and you type its digest.

Example:
  npm run cli -- reject --tax-no 91440300591872133B --period 202610 --approver "张三" --reason "金额不符"
`,
    )
    .action(async (opts: DecisionCliOptions & { reason: string }) => {
      const taxNo = validTaxNo(opts.taxNo);
      const period = validPeriod(opts.period, '--period');
      const approver = validText(opts.approver, '--approver', 64);
      const reason = validText(opts.reason, '--reason', 500);
      const given = opts.digest !== undefined ? validDigest(opts.digest) : undefined;
      const signer = signerFrom(opts);
      if (signer && given === undefined && !io.isStdinTty) {
        bad('--digest: a signed rejection names the table; required when stdin is not a terminal');
      }
      const result = await withClient(io, async (client) => {
        const statisticDigest =
          given ?? (signer ? await confirmedDigest(io, client, taxNo, period, 'reject', signer) : undefined);
        return reject(
          client,
          taxNo,
          period,
          { approver, reason, ...(statisticDigest ? { statisticDigest } : {}) },
          { ...(signer ? { signer } : {}) },
        );
      });
      reportDecision(io, result, { ...opts, approver });
    });

  program
    .command('list')
    .description('List deduction workflows by stage, taxpayer and/or period (search attributes)')
    .addOption(new Option('--stage <STAGE>', `stage: ${STAGES.join(', ')}`))
    .option('--tax-no <taxNo>', 'taxpayer (纳税人识别号)')
    .option('--period <YYYYMM>', 'tax period 税款所属期')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  npm run cli -- list --stage AWAITING_APPROVAL\n  npm run cli -- list --period 202610 --json\n',
    )
    .action(async (opts: { stage?: string; taxNo?: string; period?: string; json?: boolean }) => {
      const stage = opts.stage !== undefined ? validStage(opts.stage) : undefined;
      const taxNo = opts.taxNo !== undefined ? validTaxNo(opts.taxNo) : undefined;
      const period = opts.period !== undefined ? validPeriod(opts.period, '--period') : undefined;
      const rows = await withClient(io, (client) => listDeductions(client, { stage, taxNo, period }));
      io.out(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : formatRows(rows));
    });

  program
    .command('retry')
    .description(
      'Resume a taxpayer-month that ended FAILED, CANCELLED, TERMINATED or TIMED_OUT from where it stopped (a Temporal reset)',
    )
    .requiredOption('--tax-no <taxNo>', 'taxpayer (纳税人识别号)')
    .requiredOption('--period <YYYYMM>', 'tax period 税款所属期')
    .option('--reason <text>', 'why (recorded on the reset in Temporal), e.g. "确认密码已更正"')
    .addHelpText(
      'after',
      `
Shows the latest run (its status, why it ended, its stage), then resets it: the same workflow id goes
on in a new run from where it stopped, keeping its history (an approval already given is not asked
again). The ended run stays in Temporal's history.
Reset point: FAILED, TERMINATED, TIMED_OUT: the workflow task that scheduled the last activity, which
runs again (it reads the bureau first, so no write is repeated); CANCELLED: the last workflow task
before the cancellation was requested (the cancellation is not applied again). Signals sent after
that point (an approval) are applied again.
A RUNNING or COMPLETED month is not retried (exit code 4). A month whose period the bureau has
already rolled over cannot complete.

Example:
  npm run cli -- retry --tax-no 91440300591872133B --period 202610 --reason "确认密码已更正"
`,
    )
    .action(async (opts: { taxNo: string; period: string; reason?: string }) => {
      const taxNo = validTaxNo(opts.taxNo);
      const period = validPeriod(opts.period, '--period');
      const reason = opts.reason !== undefined ? validText(opts.reason, '--reason', 500) : undefined;
      const result = await withClient(io, (client) =>
        retryMonth(client, taxNo, period, {
          ...(reason ? { reason } : {}),
          beforeReset: (candidate) => io.out(formatRetryCandidate(candidate)),
        }),
      );
      io.out(
        `Reset ${result.workflowId}: new run ${result.newRunId} goes on from there ` +
          `(run ${result.runId} stays in the history, ${result.status}).\n` +
          `Follow it: npm run cli -- status --tax-no ${taxNo} --period ${period} --watch\n`,
      );
    });

  addScheduleCommands(program, io);

  addAccountingCommands(program, io);

  addDoctorCommand(program, io);

  addReportCommand(program, io);

  addInboxAccountCommands(program, io);

  for (const command of program.commands) {
    command
      .exitOverride()
      .configureOutput({ writeOut: io.out, writeErr: io.err })
      .showHelpAfterError(`(add --help for usage: ${program.name()} ${command.name()} --help)`);
  }
  return program;
}

function isUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e) && e.code === 14) return true; // UNAVAILABLE
  }
  return false;
}

/** Maps an error to [exit code, message to print or undefined when commander already printed it]. */
export function exitCodeFor(err: unknown): [number, string | undefined] {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return [EXIT_OK, undefined];
    }
    return [EXIT_BAD_INPUT, undefined];
  }
  if (err instanceof CliError) return [err.exitCode, err.message];
  if (
    err instanceof DeductionInputError ||
    err instanceof TemporalConfigError ||
    err instanceof RegistryError ||
    err instanceof TenantOptionError
  ) {
    return [EXIT_BAD_INPUT, err.message];
  }
  if (err instanceof TemporalUnreachableError) return [EXIT_UNREACHABLE, err.message];
  if (err instanceof DecisionRefusedError) return [EXIT_DECISION_REFUSED, `refused 已拒绝: ${err.reason}`];
  if (err instanceof DeductionNotFoundError || err instanceof DeductionStateError) {
    return [EXIT_NOT_FOUND_OR_STATE, err.message];
  }
  if (isUnavailable(err)) {
    return [EXIT_UNREACHABLE, `Temporal became unreachable: ${(err as Error).message}. Is the server running?`];
  }
  return [EXIT_UNEXPECTED, `Unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`];
}

/** Runs the CLI on `argv` (process.argv layout: node, script, ...args) and returns the exit code. */
export async function runCli(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const program = buildProgram(io);
  const err = io.err ?? ((text: string) => process.stderr.write(text));
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (e) {
    const [code, message] = exitCodeFor(e);
    if (message) err(`error: ${message}\n`);
    return code;
  }
}

/** Runs when this file (or client/bin.mjs) is the process's entry point. */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    const real = realpathSync(entry);
    const here = fileURLToPath(import.meta.url);
    return real === here || real === join(dirname(here), 'bin.mjs');
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await runCli(process.argv);
}
