// Grounding benchmark: the claims of a long approved document, as grounding reads every cited
// document (names, prices, percentages), for documents of growing length — the time should grow
// with the length, not its square.
//   npm run bench:grounding [-- --sentences N,N,…]
import { parseArgs } from 'node:util';
import { extractClaims } from '../src/pipeline/content/ground.js';
import { nodeLine } from './node-line.js';

const { values: args } = parseArgs({
  options: { sentences: { type: 'string', default: '6000,24000' } },
});
console.log(nodeLine());
for (const n of args.sentences.split(',').map(Number)) {
  const text = `Our Premium Widget is here. ${'Lorem ipsum dolor sit amet offer. '.repeat(n)}Meet Zephyr today.`;
  extractClaims(text.slice(0, 2000)); // warm-up
  const started = performance.now();
  const claims = extractClaims(text);
  console.log(
    `claims              ${String(Math.round(text.length / 1000))} KB (${n.toLocaleString('en-US')} sentences): ${(performance.now() - started).toFixed(0)} ms, ${claims.length.toLocaleString('en-US')} claims`,
  );
}
