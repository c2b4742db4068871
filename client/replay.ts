/**
 * `npm run replay`: replays workflow histories against the workflow code of this checkout (or a
 * prebuilt bundle), so a change that would break running workflows is found before it is deployed
 * (docs/deployment.md, "Before a deploy").
 *   npm run replay -- --from-server [--namespace <ns>] [--query "<visibility query>"] [--limit <n>]
 *   npm run replay -- --file <history.json> [--file <history.json> ...]
 * Both take --bundle <file> to replay against a bundle built with `npm run bundle` (e.g. the build
 * a rollback would return to). One line per workflow, then a summary; exit 1 when any history does
 * not replay, naming the workflows.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root.js';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { dataConverterFromEnv } from '../security/payloadKeys.js';
import { encodedFailuresBundlePath, workflowBundle } from '../workers/createWorker.js';
import { TASK_QUEUE } from '../workflows/contract.js';
import { createTemporalClient, TemporalConfigError, TemporalUnreachableError } from '../runtime/temporalConnection.js';

type History = proto.temporal.api.history.v1.IHistory;

export const REPLAY_EXIT = { ok: 0, failed: 1, badInput: 2, unreachable: 3 } as const;

/** The workflows a deploy would pick up: every open run on our task queue. */
export const LIVE_WORKFLOWS_QUERY = `TaskQueue = "${TASK_QUEUE}" AND ExecutionStatus = "Running"`;

export interface ReplayIo {
  out(text: string): void;
  err(text: string): void;
}

export interface ReplayDeps {
  /** The client for --from-server; default: from the environment (runtime/temporalConnection.ts). */
  connect?(namespace: string | undefined): Promise<Client>;
  /** Payload codecs and failure converter of the histories; default: from the environment. */
  dataConverter?: DataConverter;
}

/** One history to replay, with what the report line says about it. */
export interface HistorySource {
  workflowId: string;
  /** The workflow type, run id and status when they are known (from the server's list). */
  type?: string;
  runId?: string;
  status?: string;
  history: History;
}

export interface ReplayFailure {
  workflowId: string;
  type?: string;
  runId?: string;
  nondeterminism: boolean;
  message: string;
}

export interface ReplaySummary {
  replayed: number;
  failures: ReplayFailure[];
}

class ReplayInputError extends Error {}

/** Runs the command on `args` (the arguments after `npm run replay --`); returns the exit code. */
export async function runReplay(args: string[], io: ReplayIo, deps: ReplayDeps = {}): Promise<number> {
  let options: ReplayOptions;
  try {
    options = parseReplayArgs(args, io);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' ? REPLAY_EXIT.ok : REPLAY_EXIT.badInput;
    }
    throw error;
  }
  let client: Client | undefined;
  try {
    const dataConverter = deps.dataConverter ?? dataConverterFromEnv();
    let histories: AsyncIterable<HistorySource>;
    if (options.files.length > 0) {
      histories = historiesFromFiles(options.files);
    } else {
      client = await (deps.connect ?? connectFromEnv)(options.namespace);
      io.out(`Replaying the workflows matching ${options.query} in namespace ${client.options.namespace}\n`);
      histories = historiesFromServer(client, options.query, options.limit);
    }
    const replayOptions = await replayWorkerOptions(dataConverter, options.bundle);
    const against = options.bundle ? `the bundle ${options.bundle}` : 'the workflow code of this checkout';
    const summary = await replayAll(histories, replayOptions, (line) => io.out(`${line}\n`));
    io.out(`${summaryLine(summary, against)}\n`);
    return summary.failures.length === 0 ? REPLAY_EXIT.ok : REPLAY_EXIT.failed;
  } catch (error) {
    if (error instanceof ReplayInputError || error instanceof TemporalConfigError) {
      io.err(`error: ${error.message}\n`);
      return REPLAY_EXIT.badInput;
    }
    if (error instanceof TemporalUnreachableError || grpcCode(error) === 14) {
      io.err(`error: ${(error as Error).message}\n`);
      return REPLAY_EXIT.unreachable;
    }
    if (grpcCode(error) === 3) {
      io.err(`error: --query ${options.query}: the server refused it: ${(error as Error).message}\n`);
      return REPLAY_EXIT.badInput;
    }
    throw error;
  } finally {
    await client?.connection.close();
  }
}

interface ReplayOptions {
  files: string[];
  namespace?: string;
  query: string;
  limit?: number;
  bundle?: string;
}

function parseReplayArgs(args: string[], io: ReplayIo): ReplayOptions {
  const program = new Command('npm run replay --')
    .description('Replay workflow histories against the current workflow code; exit 1 on any nondeterminism.')
    .option('--from-server', 'replay the histories of workflows listed by the Temporal server')
    .option('--namespace <namespace>', 'with --from-server: the namespace (default TEMPORAL_NAMESPACE or "default")')
    .option('--query <query>', `with --from-server: a visibility query (default: ${LIVE_WORKFLOWS_QUERY})`)
    .option('--limit <n>', 'with --from-server: replay at most n workflows', positiveInteger)
    .option(
      '--file <history.json>',
      'replay a saved history (repeatable)',
      (file: string, all: string[]) => [...all, file],
      [],
    )
    .option('--bundle <file>', 'replay against this workflow bundle (npm run bundle) instead of this checkout')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(add --help for usage)')
    .allowExcessArguments(false);
  program.parse(args, { from: 'user' });
  const o = program.opts<{
    fromServer?: boolean;
    namespace?: string;
    query?: string;
    limit?: number;
    file: string[];
    bundle?: string;
  }>();
  const serverOnly = (['namespace', 'query', 'limit'] as const).filter((k) => o[k] !== undefined);
  if (Boolean(o.fromServer) === o.file.length > 0) {
    program.error('error: give either --from-server or --file <history.json>');
  }
  if (!o.fromServer && serverOnly.length > 0) {
    const names = serverOnly.map((k) => `--${k}`).join(', ');
    program.error(`error: ${names} ${serverOnly.length > 1 ? 'go' : 'goes'} only with --from-server`);
  }
  if (o.query !== undefined && o.query.trim() === '') program.error('error: --query is empty');
  return {
    files: o.file,
    query: o.query ?? LIVE_WORKFLOWS_QUERY,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    ...(o.bundle ? { bundle: o.bundle } : {}),
  };
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
}

async function connectFromEnv(namespace: string | undefined): Promise<Client> {
  return createTemporalClient(namespace ? { namespace } : {});
}

/** The replay worker's options: the bundle of this checkout, or a prebuilt one. */
export async function replayWorkerOptions(dataConverter: DataConverter, bundle?: string): Promise<ReplayWorkerOptions> {
  if (!bundle) {
    return { dataConverter, workflowBundle: await workflowBundle(dataConverter.failureConverterPath) };
  }
  // A worker with payload keys runs the bundle that encodes failures; replay the same code.
  const codePath = dataConverter.failureConverterPath ? encodedFailuresBundlePath(bundle) : bundle;
  try {
    readFileSync(codePath, { flag: 'r' });
  } catch (error) {
    throw new ReplayInputError(`--bundle ${bundle}: cannot read ${codePath} (${(error as Error).message})`);
  }
  return { dataConverter, workflowBundle: { codePath } };
}

/** Every workflow the query lists (at most `limit`), with its history as the server has it now. */
export async function* historiesFromServer(
  client: Client,
  query: string = LIVE_WORKFLOWS_QUERY,
  limit?: number,
): AsyncGenerator<HistorySource> {
  let count = 0;
  for await (const execution of client.workflow.list({ query })) {
    if (limit !== undefined && count >= limit) return;
    count++;
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    yield {
      workflowId: execution.workflowId,
      runId: execution.runId,
      type: execution.type,
      status: execution.status.name,
      history,
    };
  }
}

/** Saved histories: `temporal workflow show --output json`, the Web UI's download, or test/histories/. */
export async function* historiesFromFiles(files: string[]): AsyncGenerator<HistorySource> {
  for (const file of files) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ReplayInputError(`--file ${file}: cannot read it as JSON (${(error as Error).message})`);
    }
    const history = parseHistory(json, file);
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    yield {
      workflowId: basename(file).replace(/\.json$/, ''),
      ...(started?.workflowType?.name ? { type: started.workflowType.name } : {}),
      ...(started?.originalExecutionRunId ? { runId: started.originalExecutionRunId } : {}),
      history,
    };
  }
}

function parseHistory(json: unknown, file: string): History {
  const problems: string[] = [];
  for (const read of HISTORY_READERS) {
    try {
      const history = read(json);
      if (history.events?.[0]?.workflowExecutionStartedEventAttributes) return history;
      problems.push('its first event is not WorkflowExecutionStarted');
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  throw new ReplayInputError(`--file ${file}: not a workflow history (${problems[0]})`);
}

const HISTORY_READERS: ((json: unknown) => History)[] = [
  // Proto JSON, as `temporal workflow show --output json` and the Web UI save it.
  (json) => historyFromJSON(json),
  (json) => protoJsonHistory(json),
  // protobufjs's object form, as test/support/recordHistory.ts saves it.
  (json) => proto.temporal.api.history.v1.History.fromObject(json as Record<string, unknown>),
];

/**
 * The SDK's historyFromJSON reads with its own copy of protobufjs; where another package holds a
 * different protobufjs (here the OpenTelemetry exporter's 7.x) that copy is not the one
 * @temporalio/proto's types belong to, and it fails with "type must be a Type". This reads proto
 * JSON with the copy the types belong to.
 */
function protoJsonHistory(json: unknown): History {
  const requireFromProto = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
  const protojson = requireFromProto('protobufjs/ext/protojson') as {
    fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
  };
  const root = patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown };
  const history = protojson.fromJson(root.lookupType('temporal.api.history.v1.History'), json, {
    ignoreUnknownFields: true,
  });
  if (!history) throw new TypeError('not proto JSON of a History');
  return history as History;
}

/** Replays every history in turn, reporting one line each; stops at nothing. */
export async function replayAll(
  histories: AsyncIterable<HistorySource>,
  options: ReplayWorkerOptions,
  report: (line: string) => void,
): Promise<ReplaySummary> {
  // The worker replays one history at a time and answers in order.
  const pending: HistorySource[] = [];
  async function* feed() {
    for await (const source of histories) {
      pending.push(source);
      yield { workflowId: source.workflowId, history: source.history };
    }
  }
  const summary: ReplaySummary = { replayed: 0, failures: [] };
  for await (const result of Worker.runReplayHistories(options, feed())) {
    const source = pending.shift()!;
    summary.replayed++;
    const what = [source.type ?? '?', source.status, `${source.history.events?.length ?? 0} events`]
      .filter(Boolean)
      .join(', ');
    if (!result.error) {
      report(`ok ${source.workflowId} (${what})`);
      continue;
    }
    const nondeterminism = result.error instanceof DeterminismViolationError;
    const message = firstLine(result.error.message);
    summary.failures.push({
      workflowId: source.workflowId,
      ...(source.type ? { type: source.type } : {}),
      ...(source.runId ? { runId: source.runId } : {}),
      nondeterminism,
      message,
    });
    report(`FAIL ${source.workflowId} (${what}): ${nondeterminism ? 'nondeterminism' : 'replay failed'}: ${message}`);
  }
  return summary;
}

function summaryLine(summary: ReplaySummary, against: string): string {
  const head = `Replayed ${summary.replayed} workflow history(ies) against ${against}: ${summary.replayed - summary.failures.length} ok, ${summary.failures.length} failed.`;
  if (summary.replayed === 0) return `${head} Nothing matched: check --query and --namespace.`;
  if (summary.failures.length === 0) return head;
  const names = summary.failures.map((f) => f.workflowId).join(', ');
  return (
    `${head}\nThis code would break ${names}: keep the old behaviour for running workflows behind ` +
    "patched('<change-id>') (docs/versioning.md), or do not deploy it."
  );
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim();
}

function grpcCode(error: unknown): number | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}
