// Lint: typescript-eslint strictTypeChecked (no-floating-promises among them), plus the
// architecture rule that keeps the engine pure (DESIGN.md: arrows point inward). The layering
// of every folder is checked by dependency-cruiser (.dependency-cruiser.cjs, in `npm run lint`).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const io = ['node:*', 'fs', 'http', 'https', 'net', 'child_process', 'os', 'path', 'url', 'worker_threads', 'better-sqlite3', 'undici', 'fastify']

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'coverage/', 'dist/', 'src/ui/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      complexity: ['warn', 15],
    },
  },
  {
    files: ['src/engine/**/*.ts', 'src/forecast/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: io, message: 'The engine and forecasting are pure: no I/O imports (DESIGN.md).' },
            {
              group: [
                '**/controller/**', '**/providers/**', '**/router/**', '**/store/**', '**/api/**', '**/cli/**', '**/simulator/**',
                '**/metrics/**', '**/ui/**', '**/runtime/**', '**/alerts/**', '**/loadgen/**',
              ],
              message: 'The engine imports only engine/, core/, spec/ types and forecast/ (DESIGN.md, .dependency-cruiser.cjs).',
            },
            {
              group: ['**/core/clock.ts', '**/core/free-port.ts', '**/core/http-probe.ts', '**/core/proc-stat.ts', '**/core/trace.ts', '**/core/crash-points.ts'],
              message: 'These core/ files read the clock or do I/O; the engine takes nowMs and data as arguments.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'Date', message: 'Time is an input: take nowMs.' }, { name: 'setTimeout', message: 'The engine is synchronous.' }, { name: 'setInterval', message: 'The engine is synchronous.' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'The engine is deterministic.' }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'it', 'describe', 'suite'], package: 'node:test' }] }],
    },
  },
  { files: ['**/*.js', '**/*.cjs', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  // Plain-JavaScript entry points run by Node (bin/tide.js, scripts/build.mjs).
  { files: ['bin/**/*.js', 'scripts/**/*.mjs'], languageOptions: { globals: { URL: 'readonly', process: 'readonly', console: 'readonly' } } },
  // The dashboard's browser modules (src/ui, served as they are): browser globals there only, and
  // uPlot, which its classic script defines. Everything else still sees Node's few globals only.
  {
    files: ['src/ui/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window', 'document', 'location', 'sessionStorage', 'fetch', 'EventSource', 'URLSearchParams', 'AbortSignal', 'Event',
          'MessageEvent', 'HTMLElement', 'HTMLInputElement', 'HTMLTextAreaElement', 'HTMLFormElement', 'HTMLButtonElement', 'Node',
          'EventListener', 'requestAnimationFrame', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'console', 'uPlot',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
)
