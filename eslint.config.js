// Lint rules for the whole project. The override for lambdas/core keeps the domain pure: no AWS code
// and no I/O there, so the same core runs in Lambda, locally and in training.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const PURE = 'lambdas/core is pure: no I/O. Read files in an adapter or entry point and pass data in.';
const NO_AWS = 'lambdas/core must not import AWS code; put it in lambdas/adapters.';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'cdk.out/', 'coverage/', 'test-results/', 'layers/model/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'always'],
      'prefer-const': 'error',
    },
  },
  {
    files: ['lambdas/core/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: ['fs', 'node:fs', 'node:fs/promises', 'net', 'node:net', 'http', 'node:http', 'https', 'node:https', 'node:http2', 'child_process', 'node:child_process', 'node:dgram', 'node:dns', 'node:tls', 'node:worker_threads'].map((name) => ({ name, message: PURE })),
          patterns: [{ group: ['@aws-sdk/*', 'aws-sdk', '@smithy/*', '@aws-lambda-powertools/*', 'aws-cdk-lib', 'aws-cdk-lib/*'], message: NO_AWS }],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'lambdas/core takes time as input.' },
        { object: 'Math', property: 'random', message: 'lambdas/core takes seeds as input.' },
        { object: 'process', property: 'env', message: 'lambdas/core reads no environment; configuration is passed in.' },
      ],
    },
  },
);
