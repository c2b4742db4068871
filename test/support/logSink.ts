import type pino from 'pino';

/** Every log line the test process's runtime logger wrote, for tests that inspect logs. */
export const capturedLogLines: string[] = [];

/** Keeps lines in memory; echoes errors (or everything with TEST_LOG_ECHO=1) to stderr. */
export const logSink: pino.DestinationStream = {
  write(line: string) {
    capturedLogLines.push(line);
    if (process.env.TEST_LOG_ECHO === '1' || /"level":(50|60)/.test(line)) process.stderr.write(line);
  },
};
