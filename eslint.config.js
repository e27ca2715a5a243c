// Lint for all TypeScript, plus the rule that keeps the pure core pure:
// the deciding state machines (consensus, cluster database) never import
// node:* modules, never use timers, Date or Math.random. Time and
// randomness are injected, so one seed replays a whole cluster.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const PURE_CORE = ['src/agent/consensus/**/*.ts', 'src/agent/db/**/*.ts', 'src/agent/core/**/*.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'dist-*/**', 'node_modules/**', 'bin/**', 'test/run-tests.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: PURE_CORE,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'The pure core does no I/O: inject what it needs.' },
          { group: ['fs', 'net', 'os', 'child_process', 'worker_threads', 'crypto', 'timers', 'ssh2'], message: 'The pure core does no I/O.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'Timers are the shell\'s job; the core takes ticks.' },
        { name: 'setInterval', message: 'Timers are the shell\'s job; the core takes ticks.' },
        { name: 'setImmediate', message: 'Timers are the shell\'s job.' },
        { name: 'queueMicrotask', message: 'The core is synchronous.' },
        { name: 'Date', message: 'Time is injected into the core.' },
        { name: 'performance', message: 'Time is injected into the core.' },
        { name: 'process', message: 'The core does not touch the process.' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'Randomness is injected (a seeded source).' },
      ],
    },
  },
);
