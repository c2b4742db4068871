/**
 * `npm run replay -- --from-server [--namespace <ns>] [--query "<q>"] [--limit <n>] [--bundle <file>]`
 * `npm run replay -- --file <history.json> [--bundle <file>]`
 * Replays workflow histories against this checkout's workflow code before a deploy (client/replay.ts).
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { runReplay } from '../client/replay.js';

// The replay worker's own log lines would bury the report: warnings and errors only.
Runtime.install({ logger: new DefaultLogger('WARN') });

process.exitCode = await runReplay(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
