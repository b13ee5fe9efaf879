import { describe, expect, it } from 'vitest';
import { createCircuit } from './circuit-breaker.js';

describe('a provider circuit', () => {
  it('opens after the configured failures in a row, and a success in between resets the count', () => {
    const c = createCircuit(3, 1000);
    c.failure(0);
    c.failure(0);
    c.success();
    c.failure(0);
    c.failure(0);
    expect(c.state).toBe('closed');
    expect(c.allowance(0, 50)).toBe(50);
    c.failure(10);
    expect(c.state).toBe('open');
    expect(c.allowance(500, 50)).toBe(0);
  });

  it('lets one message probe after the cooldown: success closes, failure reopens', () => {
    const c = createCircuit(1, 1000);
    c.failure(0);
    expect(c.allowance(999, 50)).toBe(0);
    expect(c.allowance(1000, 50)).toBe(1);
    expect(c.state).toBe('half-open');
    expect(c.allowance(1000, 50)).toBe(0);
    c.failure(1001);
    expect(c.state).toBe('open');
    expect(c.allowance(1500, 50)).toBe(0);
    expect(c.allowance(2001, 50)).toBe(1);
    c.success();
    expect(c.state).toBe('closed');
    expect(c.allowance(2001, 50)).toBe(50);
  });

  it('keeps its cooldown when an attempt in flight since before it opened succeeds', () => {
    const c = createCircuit(3, 1000);
    for (let i = 0; i < 3; i += 1) c.failure(0);
    expect(c.state).toBe('open');
    // A slower attempt, sent before the third failure, comes back accepted.
    c.success();
    expect(c.state).toBe('open');
    expect(c.allowance(500, 50)).toBe(0);
    expect(c.allowance(1000, 50)).toBe(1);
    c.success();
    expect(c.state).toBe('closed');
    expect(c.allowance(1000, 50)).toBe(50);
  });

  it('probes again when the probe found nothing to send', () => {
    const c = createCircuit(1, 100);
    c.failure(0);
    expect(c.allowance(100, 10)).toBe(1);
    c.unused();
    expect(c.allowance(100, 10)).toBe(1);
  });

  it('pauses for the wait a rate limit names, or the cooldown when that is longer', () => {
    const c = createCircuit(10, 1000);
    c.pause(0, 120_000);
    expect(c.state).toBe('open');
    expect(c.allowance(1000, 5)).toBe(0);
    expect(c.allowance(119_999, 5)).toBe(0);
    expect(c.allowance(120_000, 5)).toBe(5);
    expect(c.state).toBe('closed');
    // A wait shorter than the cooldown: the cooldown.
    c.pause(200_000, 10);
    expect(c.allowance(200_500, 5)).toBe(0);
    expect(c.allowance(201_000, 5)).toBe(5);
    // A later, shorter pause does not shorten one under way.
    c.pause(300_000, 60_000);
    c.pause(301_000, 0);
    expect(c.allowance(302_500, 5)).toBe(0);
    expect(c.allowance(360_000, 5)).toBe(5);
  });

  it('keeps a pause when an attempt in flight succeeds or fails after the limit was met', () => {
    const c = createCircuit(1, 1000);
    c.pause(0, 120_000);
    // Sent before the 429 came back, answered after it.
    c.success();
    expect(c.state).toBe('open');
    expect(c.allowance(20, 5)).toBe(0);
    c.failure(30);
    expect(c.allowance(5000, 5)).toBe(0);
    // The failure opened the breaker too: after the pause, one probe.
    expect(c.allowance(120_000, 5)).toBe(1);
  });
});
