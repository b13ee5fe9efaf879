// The first line of the in-process benches: Node's version and the young generation it runs
// with, since scavenges are a large share of their time. `npm run bench:…` passes the
// semi-spaces `npm start` gives the server (--max-semi-space-size=64); `node bin/bench.js …`
// runs with Node's default.
const semiSpace = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(' ')]
  .find((a) => a.startsWith('--max-semi-space-size='))
  ?.split('=')[1];

export const nodeLine = (): string =>
  `node                ${process.version}, semi-spaces ${semiSpace === undefined ? "of Node's default size (16 MB)" : `of ${semiSpace} MB (as npm start runs Herald)`}`;
