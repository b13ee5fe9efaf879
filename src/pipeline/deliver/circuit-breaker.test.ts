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

  it('probes again when the probe found nothing to send', () => {
    const c = createCircuit(1, 100);
    c.failure(0);
    expect(c.allowance(100, 10)).toBe(1);
    c.unused();
    expect(c.allowance(100, 10)).toBe(1);
  });
});
