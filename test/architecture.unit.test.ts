import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_FOLDERS = [
  'protocol',
  'rules',
  'config',
  'activities',
  'workflows',
  'runtime',
  'security',
  'client',
  'workers',
  'inbox',
  'report',
  'simulator',
];
/** `import … from './x.js'` and `export … from './x.js'`, but not `import type` / `export type`. */
const RUNTIME_IMPORT = /^(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)'/gms;

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Runtime imports between the product's modules, file to file. */
export function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of SOURCE_FOLDERS.flatMap(sourceFiles)) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(RUNTIME_IMPORT)].map((m) =>
      normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'),
    );
    graph.set(file, targets);
  }
  return graph;
}

/** Every strongly connected group of more than one module (Tarjan). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) cycles.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe('architecture: the modules import one another without cycles', () => {
  it('finds a cycle when there is one (the check itself)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    assert.deepEqual(importCycles(graph), [['a.ts', 'b.ts', 'c.ts']]);
  });

  it('the product has no runtime import cycle', () => {
    const graph = importGraph();
    assert.ok(graph.size > 100, `read the product's modules (${graph.size})`);
    assert.ok(graph.get('client/cli.ts')?.includes('client/monthCommands.ts'), 'imports are read');
    assert.deepEqual(importCycles(graph), [], 'import cycles');
  });
});

/**
 * What points outside the repository: the planning issues, and the product brief, API notes and
 * style guide that live beside it. The facts they hold are recorded in docs/ instead.
 */
const OUTSIDE_REFERENCE = /\b[Ii]ssues? #?\d+|\b(?:DESIGN|KINGDEE-API|STYLE)\.md\b|\.\.\/shared\//;

function outsideReferences(text: string): string[] {
  return text
    .split('\n')
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => OUTSIDE_REFERENCE.test(line))
    .map(({ line, n }) => `${n}: ${line.trim()}`);
}

describe('the repository explains itself', () => {
  it('finds a reference outside the repository (the check itself)', () => {
    assert.equal(outsideReferences('ok\n// as issue 12 §3 asked\nsee DESIGN.md §4').length, 2);
    assert.deepEqual(outsideReferences('see docs/protocol.md; 12 issues remain'), []);
  });

  it('no code, test, script or document refers to something outside it', () => {
    const files = [...SOURCE_FOLDERS, 'test', 'bench', 'scripts', 'docs', 'deploy']
      .flatMap((folder) =>
        readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
          .filter((e) => e.isFile() && /\.(ts|md|json|ya?ml|sh|mjs|js)$/.test(e.name))
          .map((e) => relative(ROOT, join(e.parentPath, e.name))),
      )
      .concat(['README.md', 'BENCHMARKS.md', 'package.json', 'docker-compose.yml'])
      .filter((f) => f !== 'test/architecture.unit.test.ts' && !f.includes('node_modules'));
    assert.ok(files.length > 200, `read the repository's files (${files.length})`);
    const found = files.flatMap((f) => outsideReferences(readFileSync(join(ROOT, f), 'utf8')).map((l) => `${f}:${l}`));
    assert.deepEqual(found, []);
  });
});
