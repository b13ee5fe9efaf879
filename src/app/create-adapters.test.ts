import { describe, expect, it } from 'vitest';
import { messageIdDomainOf } from './create-adapters.js';

describe('messageIdDomainOf', () => {
  it('gives the domain of the From address in ASCII, as the From header carries it', () => {
    expect(messageIdDomainOf('Bücher Shop <news@bücher.de>')).toBe('xn--bcher-kva.de');
    expect(messageIdDomainOf('Herald Store <marketing@Shop.Example.com>')).toBe('shop.example.com');
    expect(messageIdDomainOf('news@ｅｘａｍｐｌｅ.com')).toBe('example.com');
  });

  it('falls back to herald.invalid for a From without a domain it can write', () => {
    expect(messageIdDomainOf('Herald Store')).toBe('herald.invalid');
    expect(messageIdDomainOf('a@exa mple.com')).toBe('herald.invalid');
  });
});
