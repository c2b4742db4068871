/**
 * Builds the workflow bundle once, for production workers (WORKFLOW_BUNDLE_PATH): they start
 * without webpack and every worker runs byte-identical workflow code.
 *   npm run bundle [-- <out file>]   (default .build/workflow-bundle.js)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../workers/createWorker.js';

const out = resolve(process.argv[2] ?? '.build/workflow-bundle.js');
const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
process.stdout.write(`Wrote ${out} (${(code.length / 1024).toFixed(0)} KiB)\n`);
