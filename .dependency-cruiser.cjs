/**
 * The direction of imports in src/ (STYLE.md "The layout we aim for"), checked by `npm run lint`.
 * Folders are stacked in layers: a folder may import only folders of LOWER layers (never its own layer's
 * neighbours, never upwards), so folder cycles cannot form and nothing below gateway/ can import it.
 * Entrances (portal, api) are leaves: neither imports the other, gateway/ mounts both.
 */
const LAYERS = [
  ['errors', 'util'],
  ['config'],
  ['keys', 'observability', 'http'],
  ['store'],
  ['session', 'regulation', 'policy', 'delivery', 'idp'],
  ['users'],
  ['factors', 'apiclients'],
  ['auth'],
  ['proxy', 'frontproxy'],
  ['portal', 'api'],
  ['gateway'],
  ['main.ts'],
  ['demo'],
  ['cli'],
];

const path = (name) => (name.endsWith('.ts') ? `^src/${name.replace('.', '\\.')}$` : `^src/${name}/`);
const rank = new Map(LAYERS.flatMap((layer, i) => layer.map((name) => [name, i])));

const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'Files must not import each other in a circle (a type import counts).',
    from: { path: '^src/' },
    to: { circular: true },
  },
  ...[...rank.keys()].map((name) => {
    const allowed = [...rank.entries()].filter(([other, r]) => r < rank.get(name)).map(([other]) => other);
    return {
      name: `layers-${name.replace('.ts', '')}`,
      severity: 'error',
      comment: `src/${name} may import only lower layers: ${allowed.join(', ') || 'nothing of src/'}.`,
      from: { path: path(name) },
      to: { path: '^src/', pathNot: [path(name), ...allowed.map(path)] },
    };
  }),
  {
    name: 'src-not-to-tests',
    severity: 'error',
    from: { path: '^src/' },
    to: { path: '^(test|bench)/' },
  },
];

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
