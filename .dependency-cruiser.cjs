// Layer rules (docs/ARCHITECTURE.md): api -> services -> {vision, search, store} -> domain.
// cli and jobs sit above services; src/app.ts is the composition root and may import anything;
// src/config.ts reads the environment and may use only the domain. Run: npm run lint:layers.
const layer = (name) => `^src/${name}/`;
const forbidBelow = (from, allowed, comment) => ({
  name: `${from}-imports-only-${allowed.join('-')}`,
  comment,
  severity: 'error',
  from: { path: layer(from) },
  to: { path: '^src/', pathNot: [layer(from), ...allowed.map(layer)] },
});
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Import cycles hide the order things are built in.', from: {}, to: { circular: true } },
    forbidBelow('domain', [], 'The domain is the bottom: everyone may import it, it imports nothing of ours.'),
    forbidBelow('store', ['domain'], 'Persistence knows tables and bytes, not capabilities or HTTP.'),
    forbidBelow('search', ['domain'], 'The vector index is an engine: vectors in, row numbers out.'),
    forbidBelow('vision', ['domain'], 'Pure image/ML code: no tenants, no storage, no HTTP.'),
    forbidBelow('services', ['domain', 'store', 'search', 'vision'], 'Capabilities use the engines and the stores, never HTTP, jobs or the CLI.'),
    forbidBelow('jobs', ['domain', 'services', 'store'], 'Background jobs drive services and stores.'),
    {
      ...forbidBelow('api', ['domain', 'services'], 'HTTP, protocol and schemas call services only (and read the configuration).'),
      to: { path: '^src/', pathNot: ['^src/api/', '^src/domain/', '^src/services/', '^src/config\\.ts$'] },
    },
    {
      name: 'config-imports-only-domain', severity: 'error', comment: 'Configuration parses the environment; it must not pull in capabilities.',
      from: { path: '^src/config\\.ts$' }, to: { path: '^src/', pathNot: ['^src/domain/', '^src/config\\.ts$'] },
    },
    {
      name: 'nothing-imports-the-composition-root', severity: 'error', comment: 'Only the CLI starts the app.',
      from: { pathNot: ['^src/cli/', '^test/', '^bench/'] }, to: { path: '^src/app\\.ts$' },
    },
  ],
  options: {
    parser: 'swc', // TypeScript 7 has no JS API for dependency-cruiser to parse with
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.wat$' },
  },
};
