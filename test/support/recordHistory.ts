import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const HISTORIES_DIR = fileURLToPath(new URL('../histories/', import.meta.url));

type History = proto.temporal.api.history.v1.History;

/**
 * With RECORD_HISTORIES=1, saves a finished workflow's history as test/histories/<name>.json, for
 * test/replay.test.ts to replay against later versions of the workflow code. The JSON is
 * protobufjs's object form of the History message (`toJSON`), read back with `fromObject`.
 * RECORD_HISTORIES_ONLY=<name>,<name> records only those (adding new histories keeps the others).
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const only = process.env.RECORD_HISTORIES_ONLY?.split(',').map((n) => n.trim());
  if (only && !only.includes(name)) return;
  const history = proto.temporal.api.history.v1.History.fromObject(await handle.fetchHistory());
  // Failure stack traces name files of this machine; replay never reads them.
  const json = JSON.stringify(history.toJSON(), (key, value) => (key === 'stackTrace' ? '' : value), 1);
  writeFileSync(`${HISTORIES_DIR}${name}.json`, `${json}\n`);
}

export function readRecordedHistory(json: string): History {
  return proto.temporal.api.history.v1.History.fromObject(JSON.parse(json));
}
