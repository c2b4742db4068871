import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The top layer: what runs the product and what people use. */
const APPLICATION = ['client', 'workers', 'inbox', 'report'];
/** Everything above rules/. */
const ABOVE_RULES = ['config', 'activities', 'workflows', ...APPLICATION, 'runtime', 'security', 'simulator'];

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // Workflow code is replayed: no I/O, no clock, no randomness outside Temporal's APIs.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'fetch'],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'axios', 'pino', 'better-sqlite3', '../simulator/*'], message: 'no I/O in workflows' },
            { group: ['../activities/*'], allowTypeImports: true, message: 'import activities as types only' },
            above('workflows', ['client', 'workers', 'inbox', 'report', 'runtime', 'security', 'config']),
          ],
        },
      ],
    },
  },
  // Layers point down only: protocol <- rules <- activities <- workflows <- client / workers / inbox.
  layer('protocol', ['rules', ...ABOVE_RULES]),
  layer('rules', ABOVE_RULES),
  layer('activities', ['config', 'workflows', ...APPLICATION, 'simulator']),
  layer('runtime', ['activities', 'workflows', ...APPLICATION, 'config', 'simulator']),
  // The sandbox stands for the invoice cloud: it shares only the protocol's definitions with us.
  layer('simulator', ['rules', ...ABOVE_RULES.filter((f) => f !== 'simulator')]),
);

/** An import pattern group naming the folders `folder` must not import from. */
function above(folder, forbidden) {
  const paths = forbidden.flatMap((f) => [`../${f}/*`, `../../${f}/*`, `../../../${f}/*`]);
  return { group: paths, message: `${folder}/ may not import from a layer above it (${forbidden.join(', ')})` };
}

function layer(folder, forbidden) {
  return {
    files: [`${folder}/**/*.ts`],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [above(folder, forbidden)] }] },
  };
}
