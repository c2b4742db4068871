import { DefaultFailureConverter } from '@temporalio/common';

/**
 * With payload encryption on, a failure's message and stack trace travel as an encoded payload
 * (`encodedAttributes`), so the payload codec encrypts them like any other data; the history then
 * shows only "Encoded failure". Loaded by path (DataConverter.failureConverterPath) in the worker
 * and the clients, and bundled into the workflow code (scripts/bundle.ts).
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
