import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tap/**', 'tap-snapshots/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', performance: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Generation must use the seeded Rng (src/generators/random.ts).' },
        { object: 'Date', property: 'now', message: 'Generation must not depend on the clock.' },
      ],
    },
  },
  {
    files: ['bench/**', 'test/**', 'scripts/**', 'web/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
