import { domainToASCII } from 'node:url';
import { describe, expect, it } from 'vitest';
import { channels, type ConsentEntry, type ProfileState } from './profile.js';
import {
  emailKey,
  hasRecipient,
  normaliseEmail,
  normalisePhone,
  recipientOf,
  sameEmail,
  samePhone,
  isAddressShaped,
} from './recipient.js';
import { toCustomerId } from './ids.js';

describe('hasRecipient', () => {
  it('finds someone exactly when recipientOf does, on every channel', () => {
    const base = { customerId: toCustomerId('c1'), traits: {} } as unknown as ProfileState;
    const states: ProfileState[] = [
      base,
      ...['a@example.com', ' A@Example.com ', 'not an address', '', '  ', 'a@b', 42].map(
        (email) => ({ ...base, traits: { email } }),
      ),
      ...['+15555550100', '  ', '', `+${'1'.repeat(16)}`].map((phone) => ({
        ...base,
        traits: { phone },
      })),
      { ...base, traits: { email: `${'a'.repeat(243)}@example.com` } },
      { ...base, devices: [] },
      {
        ...base,
        devices: [
          { token: 'old', platform: 'ios', seenAtMs: 1 },
          { token: 'new', platform: 'android', seenAtMs: 2 },
        ],
      },
    ];
    for (const state of states)
      for (const channel of channels)
        expect(hasRecipient(state, channel), `${channel} ${JSON.stringify(state.traits)}`).toBe(
          recipientOf(state, channel) !== null,
        );
    // More digits than a phone number has (E.164): no phone to text.
    expect(recipientOf({ ...base, traits: { phone: `+${'1'.repeat(16)}` } }, 'sms')).toBeNull();
    expect(recipientOf({ ...base, traits: { phone: `+${'1'.repeat(15)}` } }, 'sms')).toEqual({
      to: `+${'1'.repeat(15)}`,
    });
    // Typed with a comma or a semicolon, or in display-name form: no address to send to.
    for (const email of ['john,smith@gmail.com', 'a@x.com;b@y.com', '"A" <a@x.com>', 'a(b)@x.com'])
      expect(recipientOf({ ...base, traits: { email } }, 'email'), email).toBeNull();
    expect(recipientOf({ ...base, traits: { email: 'o.brien+tag@x.co.uk' } }, 'email')).toEqual({
      to: 'o.brien+tag@x.co.uk',
    });
    expect(recipientOf(states.at(-1) as ProfileState, 'push')).toEqual({
      to: 'new',
      platform: 'android',
    });
  });
});

describe('recipientOf a number a provider refused', () => {
  const failedAtMs = 1_000;
  const refused = (sms: Record<string, ConsentEntry>): ProfileState =>
    ({
      customerId: toCustomerId('c1'),
      traits: { phone: '+1 415 555 0142' },
      consent: { sms },
      unreachable: { sms: { to: '+14155550142', atMs: failedAtMs } },
    }) as unknown as ProfileState;
  const reply = (atMs: number, granted = true): ConsentEntry => ({
    granted,
    atMs,
    source: 'sms-reply',
    explicit: true,
  });
  const traits = (atMs: number): ConsentEntry => ({ granted: true, atMs, source: 'identify' });

  it('finds none until the number itself opts in again after the refusal', () => {
    expect(recipientOf(refused({ marketing: traits(500) }), 'sms')).toBeNull();
    expect(recipientOf(refused({ marketing: traits(2_000) }), 'sms')).toBeNull();
    expect(recipientOf(refused({ marketing: reply(500) }), 'sms')).toBeNull();
    expect(recipientOf(refused({ marketing: reply(2_000) }), 'sms')).toEqual({
      to: '+14155550142',
    });
  });

  it('takes a START that opened the channel’s texts, without marketing consent, as the opt-in', () => {
    const state = refused({ marketing: traits(500), transactional: reply(2_000) });
    expect(recipientOf(state, 'sms')).toEqual({ to: '+14155550142' });
    expect(hasRecipient(state, 'sms')).toBe(true);
    // WhatsApp's refusal is not lifted by an SMS reply about SMS.
    expect(
      recipientOf(
        { ...state, unreachable: { whatsapp: { to: '+14155550142', atMs: failedAtMs } } },
        'whatsapp',
      ),
    ).toBeNull();
  });

  it('still finds the START when traits restating consent took its place', () => {
    const state = refused({ marketing: { ...traits(3_000), other: reply(2_000) } });
    expect(recipientOf(state, 'sms')).toEqual({ to: '+14155550142' });
    // A STOP after it is the latest explicit word: the number is shut again.
    expect(recipientOf(refused({ marketing: { ...reply(4_000, false) } }), 'sms')).toBeNull();
  });
});

describe('samePhone', () => {
  const same = (a: string, b: string) => samePhone(normalisePhone(a), normalisePhone(b));
  it('matches one number in any spelling, the trunk 0 written after the code too', () => {
    expect(same('+1 415 555 0123', '001 415 555 0123')).toBe(true);
    expect(same('+44 20 7946 0000', '+44 (0)20 7946 0000')).toBe(true);
    expect(same('+44 20 7946 0000', '020 7946 0000')).toBe(true);
    expect(same('(415) 555-0123', '+1 415 555 0123')).toBe(true);
  });

  it('never matches two country codes, nor two national numbers that differ', () => {
    expect(same('+1 415 555 0123', '+44 415 555 0123')).toBe(false);
    expect(same('415 555 0123', '415 555 0124')).toBe(false);
    expect(same('+49 151 1234 5678', '+49 151 1234 5679')).toBe(false);
  });

  it('compares an email address as the mail library sends to it, and refuses one that hides a character', () => {
    expect(normaliseEmail(' Ana@Example.COM ')).toBe('ana@example.com');
    expect(normaliseEmail('ana@ｅｘａｍｐｌｅ.com')).toBe('ana@example.com');
    expect(normaliseEmail('ana@bücher.de')).toBe('ana@xn--bcher-kva.de');
    for (const hidden of [
      'ana@exa\u00admple.com',
      'an\u0001a@example.com',
      'ana@example.com\u0085',
      'a\u202ena@example.com',
    ])
      expect(normaliseEmail(hidden)).toBe(null);
    expect(normaliseEmail('ana@example.com, bob@example.com')).toBe(null);
    // Past what mail carries (RFC 5321), and PostgreSQL's index on a message's recipient.
    expect(normaliseEmail(`${'a'.repeat(242)}@example.com`)).toBe(`${'a'.repeat(242)}@example.com`);
    expect(normaliseEmail(`${'a'.repeat(243)}@example.com`)).toBe(null);
    expect(normaliseEmail(`ana@${'b'.repeat(240)}.bücher.de`)).toBe(null);
    expect(sameEmail('ANA@ｅｘａｍｐｌｅ.com', 'ana@example.com')).toBe(true);
    expect(sameEmail('ana@example.com', 'ann@example.com')).toBe(false);
    expect(emailKey('not an address ')).toBe('not an address');
  });

  it('reads a plain domain without IDNA only where IDNA would give it back unchanged', () => {
    // Every address through the whole mapping, as before the plain domains' short cut.
    const throughIdna = (raw: string): string | null => {
      const trimmed = raw.trim();
      const email = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+\.[^\s@<>,;:"()[\]\\]+$/;
      if (!email.test(trimmed) || /[\p{Cc}\p{Cf}]/u.test(trimmed)) return null;
      const at = trimmed.lastIndexOf('@');
      const domain = domainToASCII(trimmed.slice(at + 1));
      const address = `${trimmed.slice(0, at).toLowerCase()}@${domain}`;
      return domain !== '' && email.test(address) ? address : null;
    };
    // Domains a short cut could get wrong: numbers IDNA reads as IPv4 (decimal, `0x`), punycode
    // labels valid and not, hyphens at a label's ends, empty labels, a trailing dot, upper case.
    const labels = ['example', 'com', 'EXAMPLE', 'co', 'uk', '123', '0x1f', '0X1F', '1', '09'];
    labels.push('xn--bcher-kva', 'xn--zz', 'XN--BCHER-KVA', '-a', 'a-', 'a--b', 'b\u00fccher', '');
    // xorshift32: the same cases on every run.
    let seed = 7;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i += 1) {
      const parts = Array.from({ length: 1 + (next() % 4) }, () => labels[next() % labels.length]);
      const domain = parts.join('.') + (next() % 7 === 0 ? '.' : '');
      const raw = `Ana.B@${domain}`;
      expect(normaliseEmail(raw), raw).toBe(throughIdna(raw));
      seen.add(String(normaliseEmail(raw) === null));
    }
    // Both answers were met: the cases above are not all refused or all taken.
    expect(seen).toEqual(new Set(['true', 'false']));
    expect(normaliseEmail('ana@mail.example.co.uk')).toBe('ana@mail.example.co.uk');
    expect(normaliseEmail('ana@example.123')).toBe(null);
    expect(normaliseEmail('ana@1.2.3.4')).toBe('ana@1.2.3.4');
  });
});

describe('isAddressShaped', () => {
  it('reads as `^[^F@]+@[^F@]+\\.[^F@]+$` does, in one pass', () => {
    const pattern = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
    const pieces = ['a', '@', '.', ' ', '<', 'b', '..', 'ü', '\u00A0'];
    let seed = 3;
    const next = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let n = 0; n < 20_000; n += 1) {
      const text = Array.from(
        { length: 1 + Math.floor(next() * 9) },
        () => pieces[Math.floor(next() * pieces.length)] ?? '',
      ).join('');
      expect(isAddressShaped(text, /[\s<>]/), JSON.stringify(text)).toBe(pattern.test(text));
    }
    // An identify's email of dots: the pattern took two seconds at 32 KB (not timed here).
    expect(normaliseEmail(`a@a${'.a'.repeat(20_000)}.@..a`)).toBeNull();
  });
});
