import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The layer rules' messages for `code` as if it were the file `path` of the repository. */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: ROOT }).lintText(code, { filePath: join(ROOT, path) });
  return result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

describe('ESLint keeps the layers pointing down', function () {
  this.timeout(60_000);

  const refused: [file: string, code: string, says: RegExp][] = [
    ['protocol/x.ts', "import { a } from '../rules/deductibility.js';\nexport { a };", /protocol\/ may not import/],
    ['rules/x.ts', "import { a } from '../activities/failures.js';\nexport { a };", /rules\/ may not import/],
    ['activities/x.ts', "import { a } from '../workflows/contract.js';\nexport { a };", /activities\/ may not import/],
    ['activities/sub/x.ts', "import { a } from '../../config/loadTenants.js';\nexport { a };", /activities\/ may not/],
    ['runtime/x.ts', "import { a } from '../client/cliSupport.js';\nexport { a };", /runtime\/ may not import/],
    ['workflows/month/x.ts', "import { a } from '../../client/deductions.js';\nexport { a };", /workflows\/ may not/],
    [
      'workflows/x.ts',
      "import { a } from '../activities/failures.js';\nexport { a };",
      /import activities as types only/,
    ],
    [
      'simulator/gateway/x.ts',
      "import { a } from '../../activities/failures.js';\nexport { a };",
      /simulator\/ may not/,
    ],
  ];
  for (const [file, code, says] of refused) {
    it(`refuses an upward import in ${file}`, async () => {
      const errors = await layerErrors(file, code);
      assert.equal(errors.length, 1, `one layer error, got ${JSON.stringify(errors)}`);
      assert.match(errors[0]!, says);
    });
  }

  it('lets each layer import the layers below it', async () => {
    const allowed: [string, string][] = [
      ['rules/x.ts', "import { a } from '../protocol/codes.js';\nexport { a };"],
      ['activities/x.ts', "import { a } from '../rules/deductibility.js';\nexport { a };"],
      ['workflows/x.ts', "import type { a } from '../activities/failures.js';\nexport type { a };"],
      ['client/x.ts', "import { a } from '../workflows/contract.js';\nexport { a };"],
      ['simulator/x.ts', "import { a } from '../protocol/codes.js';\nexport { a };"],
    ];
    for (const [file, code] of allowed) assert.deepEqual(await layerErrors(file, code), [], file);
  });
});
