import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';

const writeKey = 'serve-loop-key-0001';
const adminToken = 'herald-dev-admin-token';
const startScript = (
  JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }
).scripts.start;

describe('herald serve', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the scheduler worker and the learning loop in its process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-serve-'));
    dirs.push(dir);
    // Exactly what `npm start` runs: Herald compiled by bin/herald.js (node's flags included).
    const [node, ...startArgs] = startScript.split(' ');
    expect(node).toBe('node');
    const child = spawn(process.execPath, startArgs, {
      env: {
        ...process.env,
        HERALD_DATABASE_URL: `sqlite:${join(dir, 'herald.db')}`,
        HERALD_PORT: '0',
        HERALD_WRITE_KEYS: writeKey,
        HERALD_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const messages: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; address?: string };
        if (entry.msg !== undefined) messages.push(entry.msg);
        if (entry.msg === 'herald listening' && entry.address !== undefined) resolve(entry.address);
      });
      child.on('exit', () => {
        reject(new Error('herald exited before listening'));
      });
    });
    const admin = async (path: string) => {
      const res = await fetch(`${url}${path}`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as Record<string, { [key: string]: unknown }[]>;
    };
    try {
      const signup = await fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
        },
        body: JSON.stringify({
          batch: [
            { type: 'identify', userId: 'new-1', traits: { email: 'new-1@example.com' } },
            { type: 'track', userId: 'new-1', event: 'Signed Up' },
          ],
        }),
      });
      expect(signup.status).toBe(200);
      // The in-process worker is nudged by the ingest: the welcome journey's first step follows.
      let steps: unknown[] = [];
      for (let i = 0; i < 100 && steps.length < 2; i += 1) {
        steps = (await admin('/v1/decisions?customerId=new-1')).decisions ?? [];
        if (steps.length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(steps).toHaveLength(2);
      // The learning loop ran at start: too little data, registered with the reason.
      let models: { [key: string]: unknown }[] = [];
      for (let i = 0; i < 100 && models.length < 3; i += 1) {
        models = (await admin('/v1/models')).models ?? [];
        if (models.length < 3) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The run's three models, newest first: conversion, churn, CLV.
      expect(models).toMatchObject([
        { version: 3, kind: 'conversion', status: 'insufficient-data' },
        { version: 2, kind: 'churn', status: 'insufficient-data' },
        { version: 1, kind: 'clv', status: 'insufficient-data' },
      ]);
      expect(String(models[0]?.['reason'])).toMatch(/no message sent/);
      for (const m of models.slice(1))
        expect(String(m['reason'])).toMatch(/ordering customers \(needs ≥ 500\)/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(messages).toContain('herald stopped');
  });
});
