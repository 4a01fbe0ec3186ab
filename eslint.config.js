import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'data/**', 'coverage/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Libraries never import apps; each lib is reached only through its public index.
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/apps/**'], message: 'libs and apps never import an app' }, { group: ['@enclave/*/**'], message: 'import a lib through its index only' }] },
      ],
    },
  },
  { files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'], languageOptions: { globals: { ...globals.jest } } },
);
