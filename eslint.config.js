// Lint rules that keep the project's promises: cores do no I/O (STYLE.md "cores and
// shells"), and the ingress cannot import the code that parses the inner session.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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

/** Packages whose src is a sans-I/O core. */
const corePackages = [
  'errors',
  'socks5',
  'authority',
  'target-policy',
  'directory',
  'connect-udp',
  'privacy-pass',
  'abuse-limits',
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '.demo/**', '.bench-out/**', 'apps/client/dist/**'] },
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
    files: corePackages.map((p) => `packages/${p}/src/**/*.ts`),
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
    files: ['apps/ingress/**/*.ts', 'packages/outer-hop/src/server*.ts', 'packages/trunk/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@splitrelay/inner-session',
                '@splitrelay/inner-session/*',
                '@splitrelay/target-dialer',
                '@splitrelay/target-policy',
              ],
              message:
                'The ingress must not contain code that parses the inner session or decides targets.',
            },
          ],
        },
      ],
    },
  },
);
