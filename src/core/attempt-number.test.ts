import { describe, expect, it } from 'vitest';
import { attemptNumberOf, callbackDataOf } from './attempt-number.js';

describe('attempt numbers carried back by providers', () => {
  it('reads a whole number from 1 in decimal digits, and nothing else', () => {
    expect(['1', '2', '17'].map(attemptNumberOf)).toEqual([1, 2, 17]);
    for (const other of [
      undefined,
      null,
      '',
      '0',
      '01',
      '-1',
      '1.5',
      '1e3',
      ' 2',
      '0x2',
      '12345678901',
    ])
      expect(attemptNumberOf(other)).toBeUndefined();
  });

  it('splits WhatsApp’s callback data into the message id and the attempt', () => {
    expect(callbackDataOf('0190-msg#2')).toEqual({ messageId: '0190-msg', attempt: 2 });
    // Sent before attempts were named: the id alone, whatever it holds.
    expect(callbackDataOf('0190-msg')).toEqual({ messageId: '0190-msg' });
    expect(callbackDataOf('a#b')).toEqual({ messageId: 'a#b' });
  });
});
