// Lint rules that keep the project's promises: cores do no I/O (the packages/core house rule
// in docs/design.md), and the ingress cannot import the code that parses the inner session.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { ISOLATION_RULES } from './tools/architecture/src/rules.ts';

/** What the ingress must not import (tools/architecture checks its whole closure too). */
const ingressForbidden = ISOLATION_RULES.find((r) => r.app === '@splitrelay/ingress-app').forbidden;

const ioModules = [
  'node:net',
  'node:dgram',
  'node:tls',
  'node:http',
  'node:http2',
  'node:https',
  'node:dns',
  'node:timers',
  'node:timers/promises',
  'pino',
  'undici',
  'ws',
  '@nats-io/transport-node',
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '.demo/**',
      '.bench-out/**',
      '.audit/**',
      'apps/client/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'off',
    },
  },
  {
    // Everything under packages/core is a sans-I/O core: where a package lives says what it may do.
    files: ['packages/core/*/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioModules.map((name) => ({
            name,
            message: 'Cores are sans-I/O: move I/O to a shell.',
          })),
        },
      ],
    },
  },
  {
    files: [
      'apps/ingress/**/*.ts',
      'packages/hops/outer-hop/src/server*.ts',
      'packages/hops/trunk/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ingressForbidden.flatMap((name) => [name, `${name}/*`]),
              message:
                'The ingress must not contain code that parses the inner session or decides targets.',
            },
          ],
        },
      ],
    },
  },
);
