/** The CLI's month commands: start, status, approve, reject, list, retry. */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { type Client } from '@temporalio/client';
import { likelyCurrentPeriod } from '../protocol/period.js';
import {
  CANDIDATE_SOURCE_KINDS,
  DECISION_POLICIES,
  STAGES,
  Stage,
  type DecisionPolicy,
} from '../workflows/contract.js';
import { decisionSigningKey, KEY_ID_PATTERN } from '../security/decisionSigning.js';
import {
  DeductionStateError,
  approve,
  getProgress,
  listDeductions,
  reject,
  startMonthlyDeduction,
  type DecisionResult,
  type DecisionSigner,
} from './deductions.js';
import { DEFAULT_REGISTRY_FILE } from './registry.js';
import { approversForStart } from './startApprovers.js';
import { tenantForStart } from './tenantOption.js';
import { candidateSourceFromOptions } from './candidateSourceOption.js';
import { INVOICE_FILE_COLUMNS } from '../protocol/invoicesFile.js';
import { watchStatus } from './watchStatus.js';
import { retryMonth } from './retryMonth.js';
import { isRetryableStatus, retryCommand } from '../workflows/launcherContract.js';
import {
  CliError,
  EXIT_BAD_INPUT,
  EXIT_DECISION_REFUSED,
  EXIT_APPROVAL_VOIDED,
  bad,
  withClient,
  type CliIo,
} from './cliSupport.js';
import {
  validTaxNo,
  validPeriod,
  validStage,
  validInstant,
  validOutageHours,
  validText,
  validDigest,
} from './cliArguments.js';
import { formatStatus, formatRetryCandidate, formatRows } from './cliFormat.js';

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

/** Adds the month commands to the program. */
export function addMonthCommands(program: Command, io: CliIo): void {
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
}
