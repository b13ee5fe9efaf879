// Bulk-import benchmark: `herald import events` of an NDJSON file (1,000,000 events by default)
// into a fresh embedded database, as its own process; prints the time and the peak RSS.
//   npm run bench:import [-- --events N --customers N]
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { once } from 'node:events';
import { createEventMix } from './event-mix.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    customers: { type: 'string', default: '100000' },
  },
});
const total = Number(args.events);
const dir = mkdtempSync(join(tmpdir(), 'herald-import-bench-'));
const file = join(dir, 'events.ndjson');

const mix = createEventMix({
  customers: Number(args.customers),
  runId: `i${Date.now().toString(36)}`,
});
const out = createWriteStream(file);
const start = Date.now() - 30 * 86_400_000;
for (let i = 0; i < total; i += 1) {
  // Spread over the last 30 days so the profiles have a history, not one instant.
  if (!out.write(`${mix.event(start + Math.floor((i / total) * 30 * 86_400_000))}\n`))
    await once(out, 'drain');
}
out.end();
await once(out, 'finish');
console.log(
  `file                ${total.toLocaleString('en-US')} events, ${(statSync(file).size / 1e6).toFixed(0)} MB NDJSON`,
);

const started = performance.now();
const child = spawn(process.execPath, ['bin/herald.js', 'import', 'events', file], {
  env: {
    ...process.env,
    HERALD_DATABASE_URL: `sqlite:${join(dir, 'herald.db')}`,
    HERALD_LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let stdout = '';
child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
child.stderr.resume();
// Peak RSS from the kernel's high-water mark, sampled until the process exits.
let peakKb = 0;
const sampler = setInterval(() => {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    if (hwm?.[1] !== undefined) peakKb = Math.max(peakKb, Number(hwm[1]));
  } catch {
    // the process has exited
  }
}, 50);
const [code] = (await once(child, 'exit')) as [number | null];
clearInterval(sampler);
const seconds = (performance.now() - started) / 1000;
const summary = JSON.parse(stdout) as { accepted: number; stored: number; rejected: number };
rmSync(dir, { recursive: true, force: true });
console.log(
  `import              exit ${code}, ${summary.stored.toLocaleString('en-US')} stored, ${summary.rejected} rejected`,
);
console.log(
  `time                ${seconds.toFixed(1)} s (${Math.round(summary.stored / seconds).toLocaleString('en-US')} events/s, process start included)`,
);
console.log(`peak RSS            ${(peakKb / 1024).toFixed(0)} MB`);
