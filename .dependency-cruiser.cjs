// The architecture of tide's src/, as rules that `npm run lint` checks (dependency-cruiser).
// This file is the layering's documentation: when a rule and the prose elsewhere disagree,
// the rule is what holds. Run alone with `npx depcruise src --config .dependency-cruiser.cjs`.
//
// The folders stand in layers. A file may import its own folder and any folder of a LOWER
// layer, never one of its own layer or above, so no folder imports one above it and no two
// folders import each other. Bottom to top:
//
//   0  src/errors.ts  the error base (TideError, codes); imports nothing
//   1  core/          shared vocabulary and small leaf utilities: clock, instance health,
//                     priorities, sizes, the ISO-8601 parser, the seeded PRNG, the HTTP
//                     probe, free ports, /proc reading, the trace format. Imports no other
//                     folder (only the error base), so every folder may import it
//   2  spec/          tide.yaml: the zod schema, loading with located errors, HPA import
//   3  forecast/      demand forecasting (pure)
//   4  engine/        the decision engine (pure): policies, guards, planner, decide
//   5  providers/ metrics/ router/ loadgen/
//                     the adapters to the world (instances, /proc samples, traffic, load);
//                     siblings, so none imports another
//   6  store/         persistence: the ports the controller and alerts write to (events,
//                     state, delivery log) and their SQLite implementation
//   7  controller/ alerts/
//                     the reconcile loop; webhook alerts (siblings)
//   8  simulator/     the real controller on a virtual clock
//   9  runtime/       the composition root of `tide up` and `tide demo`
//  10  app/           the application service over a running tide: the queries and commands
//                     the API (and through it the CLI and the dashboard) offer
//  11  api/           the REST API over the application service: routes, auth, /metrics
//  12  cli/           the `tide` command (bin/ and bench/ stand above src/)
//
// A new folder must be placed in a layer below before anything may import it or it may
// import anything (rule folder-without-a-layer).
//
// Beside the layers, ui/ is the dashboard's browser code: plain ES modules the API serves as
// files (src/api/dashboard.ts reads them; nothing imports them). They import only each other
// and the vendor modules the API serves beside them (`./vendor/…`, resolved by the browser).

/** The layers, bottom first. 'errors' stands for the file src/errors.ts. */
const layers = [
  ['errors'],
  ['core'],
  ['spec'],
  ['forecast'],
  ['engine'],
  ['providers', 'metrics', 'router', 'loadgen'],
  ['store'],
  ['controller', 'alerts'],
  ['simulator'],
  ['runtime'],
  ['app'],
  ['api'],
  ['cli'],
]

/** The path pattern of one folder (or of src/errors.ts). */
const pathOf = (folder) => (folder === 'errors' ? 'src/errors\\.ts$' : `src/${folder}/`)
const anyOf = (folders) => `^(${folders.map(pathOf).join('|')})`

/** One rule per folder: it imports nothing of its own layer (but itself) or above. */
const layerRules = layers.flatMap((layer, i) =>
  layer.flatMap((folder) => {
    const notBelow = layers.slice(i).flat().filter((f) => f !== folder)
    if (notBelow.length === 0) return [] // the top layer's only folder: nothing stands above it
    return {
      name: `layer-${folder}`,
      comment: `${folder} (layer ${i}) imports only folders of lower layers: not ${notBelow.join(', ')}.`,
      severity: 'error',
      from: { path: `^${pathOf(folder)}` },
      to: { path: anyOf(notBelow) },
    }
  }),
)

const allFolders = layers.flat()

/** Node built-ins and packages that do I/O; the pure layers may not reach them, even through core/. */
const ioModules = [
  '(node:)?(fs|fs/promises|http|https|http2|net|dgram|dns|child_process|cluster|os|path|url|worker_threads|readline|zlib|timers|timers/promises|crypto|process)',
  'better-sqlite3',
  'undici',
  'fastify',
  'hono',
  '@hono/node-server',
  'prom-client',
]

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'pure-engine-and-forecast',
      comment:
        'engine/ and forecast/ import only core/, spec/, forecast/, their own folder, the error base and croner ' +
        '(DESIGN.md: the decision is a pure function). ESLint adds the ban on Date, timers and Math.random.',
      severity: 'error',
      from: { path: '^src/(engine|forecast)/' },
      to: { pathNot: ['^src/(core|spec|forecast|engine)/', '^src/errors\\.ts$', '^node_modules/croner/'] },
    },
    {
      name: 'pure-reaches-no-io',
      comment:
        'engine/ and forecast/ reach no I/O module, not even through a core/ file (core/ also holds the HTTP probe, ' +
        'free ports and /proc reading, which the pure layers may not use).',
      severity: 'error',
      from: { path: '^src/(engine|forecast)/' },
      to: { path: `^(${ioModules.join('|')})$`, reachable: true },
    },
    {
      name: 'adapters-never-import-controller-or-runtime',
      comment:
        'providers/, metrics/, store/, router/ and alerts/ are driven by the controller and wired by the runtime; ' +
        'they never import either (the shared vocabulary they need is in core/ and the ports in store/).',
      severity: 'error',
      from: { path: '^src/(providers|metrics|store|router|alerts)/' },
      to: { path: '^src/(controller|runtime)/' },
    },
    {
      name: 'core-imports-no-folder',
      comment: 'core/ is the bottom: it imports no other src/ folder (only the error base), so every folder may import it.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: ['^src/core/', '^src/errors\\.ts$'] },
    },
    {
      name: 'no-import-of-cli',
      comment: 'cli/ is the top of src/: only bin/ (and tests) run it; no src/ folder imports it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'no-import-of-bench-or-test',
      comment: 'Nothing in src/ imports bench/ or test/: they stand above everything and ship with no package.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(bench|test)/' },
    },
    {
      name: 'no-circular',
      comment: 'No file imports itself through others. Folder cycles are ruled out by the layers.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'ui-is-browser-code',
      comment: 'ui/ runs in the browser: it imports only ui/ (and the served ./vendor/ modules), never tide\'s Node code.',
      severity: 'error',
      from: { path: '^src/ui/' },
      to: { pathNot: ['^src/ui/', '^\\./vendor/'] },
    },
    {
      name: 'no-import-of-ui',
      comment: 'Nothing in src/ imports ui/: the API serves its files (src/api/dashboard.ts), it does not run them.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/ui/' },
      to: { path: '^src/ui/' },
    },
    {
      name: 'folder-without-a-layer',
      comment: 'Every src/ folder has a place in `layers` above; add a new folder there before it imports or is imported.',
      severity: 'error',
      from: { path: '^src/', pathNot: [anyOf(allFolders), '^src/ui/'] },
      to: {},
    },
    {
      name: 'import-of-folder-without-a-layer',
      comment: 'Every src/ folder has a place in `layers` above; add a new folder there before it imports or is imported.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/ui/' },
      to: { path: '^src/', pathNot: anyOf(allFolders) },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to no file is a typo or a missing package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^\\./vendor/' },
    },
  ],
  options: {
    // Packages are not cruised: only whether src/ reaches them.
    doNotFollow: { path: 'node_modules' },
    // node_modules may be a symlink (a git worktree sharing one install): keep its paths as written.
    preserveSymlinks: true,
    // Type-only imports count: a layer may not even name the types of a layer above it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
}
