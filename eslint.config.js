// Lint: typescript-eslint's type-aware rules (floating and misused promises matter in async
// middleware), with Prettier owning the layout.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'bench/node_modules/', 'bench/*.mjs', '.tmp/', 'test/docs/snippet-globals.d.ts'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
  },
);
