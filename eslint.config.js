import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'coverage/**', 'tests/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Domain code is pure: it talks to the world only through ports passed in as arguments.
    files: ['**/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['hono', 'hono/*', '@hono/*'], message: 'domain code must not import HTTP adapters' },
            { group: ['@mikro-orm/*', 'pg'], message: 'domain code must not import database adapters' },
            { group: ['kafkajs'], message: 'domain code must not import Kafka adapters' },
            {
              group: ['@kubernetes/client-node'],
              message: 'domain code must not import Kubernetes adapters',
            },
          ],
        },
      ],
    },
  },
  {
    // Scripts and CLIs that talk to a terminal may print.
    files: ['infra/**/*.{js,ts}', 'tests/harness/**/*.ts', 'bench/**/*.ts', '**/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
