// The first line of the in-process benches: Node's version and the young generation it runs
// with, since scavenges are a large share of their time. `npm run bench:…` passes the
// semi-spaces `npm start` gives the server (--max-semi-space-size=64); `node bin/bench.js …`
// runs with Node's default.
// NODE_OPTIONS first: Node applies it before the command line, so the last flag given wins
// (V8 spells its flags with - or _ alike).
const semiSpace = [...(process.env['NODE_OPTIONS'] ?? '').split(' '), ...process.execArgv]
  .map((flag) => flag.split('='))
  .findLast(([name]) => name?.replaceAll('_', '-') === '--max-semi-space-size')?.[1];

export const nodeLine = (): string =>
  `node                ${process.version}, semi-spaces ${semiSpace === undefined ? "of Node's default size (16 MB)" : `of ${semiSpace} MB${semiSpace === '64' ? ' (as npm start runs Herald)' : ''}`}`;
