/**
 * Builds the workflow bundle once, for production workers (WORKFLOW_BUNDLE_PATH): they start
 * without webpack and every worker runs byte-identical workflow code.
 *   npm run bundle [-- <out file>]   (default .build/workflow-bundle.js)
 * Writes a second bundle beside it, `<name>.encoded-failures.js`, whose workflow failures carry
 * their message encoded (security/failureConverter.ts): workers with payload encryption load it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { ENCODED_FAILURES_CONVERTER_PATH } from '../security/payloadKeys.js';
import { encodedFailuresBundlePath, WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../workers/createWorker.js';

const out = resolve(process.argv[2] ?? '.build/workflow-bundle.js');
mkdirSync(dirname(out), { recursive: true });
for (const [file, failureConverterPath] of [
  [out, undefined],
  [encodedFailuresBundlePath(out), ENCODED_FAILURES_CONVERTER_PATH],
] as const) {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: new DefaultLogger('WARN'),
    ...(failureConverterPath ? { failureConverterPath } : {}),
  });
  writeFileSync(file, code);
  process.stdout.write(`Wrote ${file} (${(code.length / 1024).toFixed(0)} KiB)\n`);
}
