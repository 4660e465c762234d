// ESLint (flat config): typescript-eslint's recommended rules over the
// TypeScript sources; formatting is Prettier's job (npm run format:check).
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'src/generated/', 'clients/python/', 'bench-results/', 'coverage/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'always'],
      // A closure may read a variable that is assigned once, after the closure is made.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Errors that cross to clients drop their cause on purpose: internals never reach a client.
      'preserve-caught-error': 'off',
    },
  },
  {
    // Example scripts run inside Lucien's JavaScript engine, with its globals.
    files: ['examples/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { buckets: 'readonly', args: 'readonly', console: 'readonly', result: 'writable' },
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The admin page: ES modules run by the browser.
    files: ['src/http/page/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'document',
          'window',
          'location',
          'history',
          'confirm',
          'sessionStorage',
          'fetch',
          'AbortController',
          'TextDecoderStream',
          'URLSearchParams',
          'Node',
          'Event',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
