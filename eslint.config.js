// @ts-check
import tseslint from 'typescript-eslint';

/** Dependency direction: core ← ports ← pipeline ← adapters/app/http/cli. */
const layer = (/** @type {string[]} */ forbidden) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: forbidden.map((group) => ({
        group: [`**/${group}/**`, `**/${group}`],
        message: `This layer must not import from ${group}/ (see docs/architecture.md).`,
      })),
    },
  ],
});

/** The pipeline's stages: none imports another; `pipeline/stages.ts` hands outputs on. */
const stages = [
  'ingest',
  'profile',
  'decide',
  'experiment',
  'measure',
  'predict',
  'render',
  'guard',
  'record',
  'deliver',
  'content',
];
const outerLayers = ['adapters', 'app', 'http', 'cli', 'sim'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'bin/**', 'coverage/**'] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/core/**'],
    rules: layer(['ports', 'pipeline', 'adapters', 'app', 'http', 'cli', 'sim']),
  },
  { files: ['src/ports/**'], rules: layer(['pipeline', 'adapters', 'app', 'http', 'cli', 'sim']) },
  { files: ['src/pipeline/**'], rules: layer(['adapters', 'app', 'http', 'cli', 'sim']) },
  { files: ['src/sim/**'], rules: layer(['http', 'cli']) },
  ...stages.map((stage) => ({
    files: [`src/pipeline/${stage}/**`],
    rules: layer([...stages.filter((other) => other !== stage), ...outerLayers]),
  })),
  { files: ['src/adapters/**'], rules: layer(['app', 'http', 'cli']) },
  { files: ['src/http/**'], rules: layer(['cli', 'adapters']) },
  {
    // Responses parsed from JSON are `any`; tests assert on their shape instead of typing them.
    files: ['**/*.test.ts', 'test/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
