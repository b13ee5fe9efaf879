import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunningServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `herald serve` as its own process (as an operator would) and waits for its address. */
export const runServer = (env: Record<string, string>): Promise<RunningServer> =>
  new Promise((resolve, reject) => {
    // BENCH_NODE_ARGS passes flags to the server's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
    const nodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
    const child = spawn(
      process.execPath,
      // As `npm start` runs it: compiled by bin/herald.js, with its young generation.
      ['--max-semi-space-size=64', ...nodeArgs, 'bin/herald.js', 'serve'],
      {
        env: {
          ...process.env,
          HERALD_PORT: '0',
          HERALD_LOG_LEVEL: 'info',
          HERALD_SWEEP_INTERVAL_MINUTES: '0',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    child.on('exit', (code) => {
      reject(new Error(`herald exited with ${code}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; address?: string };
      if (entry.msg === 'herald listening' && entry.address !== undefined) {
        resolve({
          url: entry.address,
          child,
          stop: () =>
            new Promise((done) => {
              child.removeAllListeners('exit');
              child.on('exit', () => {
                done();
              });
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
