// ESLint: typescript-eslint's recommended type-checked rules on src/ and test/, with Prettier owning the layout.
// Rules switched off or tuned here are the few this codebase does not need; each says why.
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'static/**', 'templates/**', 'node_modules/**', 'bench/results/**', 'coverage/**', '**/*.mjs', '**/*.cjs', '**/*.js'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Nest's lifecycle hooks and interface-shaped methods are async without always awaiting.
      '@typescript-eslint/require-await': 'off',
      // `void promise` marks fire-and-forget on purpose; a bare floating promise is still an error.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      // Express handlers and Nest decorators take async callbacks where a void return is expected.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      // discord-api-types and mongoose declare wire strings and numbers as enums; comparing one to the literal value the
      // wire carries ('rich', 'online', 1) is what the protocol does, not a mix-up of two enums.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // Unused arguments keep signatures readable when prefixed with _.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests read JSON bodies from supertest and stand-ins whose shapes are asserted, not typed.
    files: ['test/**/*.ts', 'src/**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier,
);
