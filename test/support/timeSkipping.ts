import { TestWorkflowEnvironment } from '@temporalio/testing';
import { testServerPath } from '../../scripts/temporalTools.js';
import { INDEXED_VALUE_TYPES } from '../../scripts/devServer.js';
import { SEARCH_ATTRIBUTE_NAMES, SEARCH_ATTRIBUTE_TYPES } from '../../workflows/contract.js';
import { installTestLogging } from './stack.js';

/** The time-skipping test server (from .tools, never downloaded) with our search attributes. */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  installTestLogging();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  });
  // The test server knows no custom search attributes until they are registered, and it does
  // not implement ListSearchAttributes, so they are added without a look first.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTE_NAMES.map((name) => [name, INDEXED_VALUE_TYPES[SEARCH_ATTRIBUTE_TYPES[name]]]),
    ),
  });
  return env;
}
