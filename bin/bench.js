#!/usr/bin/env node
// Runs a benchmark compiled the way bin/herald.js compiles Herald, so in-process figures
// measure the code as it runs in production:  node bin/bench.js bench/decide.ts [flags]
import { run } from './compile.js';

const [entry] = process.argv.splice(2, 1);
if (entry === undefined) {
  console.error('usage: node bin/bench.js bench/NAME.ts [flags]');
  process.exit(2);
}
// As bin/herald.js runs Herald: in UTC, whatever the machine's zone.
process.env.TZ = 'UTC';
await run(entry);
