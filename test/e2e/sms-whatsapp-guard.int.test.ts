import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { postAsTwilio } from '../support/twilio.js';

const T0 = Date.UTC(2026, 5, 3, 15);
const PUBLIC = 'https://herald.example.com';
const token = 'twilio-auth-token-0001';
const sqlite = storeFactories.find((f) => f.name === 'sqlite');

const shippedYaml = `class: transactional
topic: null
text: "Hi {{ customer.firstName }}, your order {{ details.orderId }} is on its way."
whatsapp:
  name: order_shipped
  language: en_US
  parameters:
    - "{{ customer.firstName }}"
    - "{{ details.orderId }}"
`;
const noteYaml = `class: transactional
topic: null
text: "Hi {{ customer.firstName }}, your order {{ details.orderId }} is on its way. {{ details.note }}"
`;

describe('SMS and WhatsApp at the guard and on Twilio replies', () => {
  let herald: TestHerald;
  let clock: VirtualClock;
  beforeEach(async () => {
    if (sqlite === undefined) throw new Error('no sqlite store factory');
    clock = createVirtualClock(T0);
    herald = await startHerald(sqlite, {
      clock,
      // Herald texts from one US number: the `To` of replies by default.
      env: {
        HERALD_PUBLIC_URL: PUBLIC,
        HERALD_TWILIO_AUTH_TOKEN: token,
        HERALD_TWILIO_FROM: '+14155550000',
      },
      templates: { 'order-shipped': shippedYaml, 'order-note': noteYaml },
      configYaml: 'guard:\n  whatsappApprovedTemplates: [order_shipped]\n',
    });
  });
  afterEach(async () => {
    await herald.close();
  });
  const ingest = (route: string, body: object) => ingestCall(herald, clock, route, body);
  const send = async (userId: string, template: string, channel: string, data = {}) =>
    (await adminCall(herald, 'POST', '/v1/sends', { userId, channel, template, data })).json<{
      decisionId: string;
      status: string;
      reasonCode: string | null;
    }>();
  // `to` is Herald's number the reply was sent to: a US one unless a test says otherwise.
  const textIn = (from: string, body: string, sid: string, to = '+14155550000') => {
    clock.set(clock.nowMs() + 60_000);
    return postAsTwilio(
      herald,
      { publicUrl: PUBLIC, token },
      '/webhooks/twilio/inbound',
      new URLSearchParams({ From: from, To: to, Body: body, MessageSid: sid }),
    );
  };
  const textedAt = async (userId: string, phone: string) => {
    await ingest('identify', {
      userId,
      traits: { timezone: 'America/New_York', phone, consent: { sms: { marketing: true } } },
    });
    const first = await send(userId, 'upsell', 'sms');
    await herald.services.dispatcher.runDue();
    return herald.services.store.getMessage(first.decisionId);
  };

  it('refuses a WhatsApp receipt whose only opt-in is an implied grant', async () => {
    await ingest('identify', {
      userId: 'wa-implied',
      traits: {
        firstName: 'Ida',
        timezone: 'America/New_York',
        phone: '+14155550111',
        consent: { whatsapp: { transactional: { granted: true, source: 'implied' } } },
      },
    });
    const sent = await send('wa-implied', 'order-shipped', 'whatsapp', { orderId: 'A-1' });
    expect({ status: sent.status, reasonCode: sent.reasonCode }).toEqual({
      status: 'blocked',
      reasonCode: 'no_consent',
    });
  });

  it('honours a STOP from the E.164 number when the phone trait is in national format', async () => {
    const sent = await textedAt('nat', '(415) 555-0123');
    expect({ status: sent?.status, to: sent?.recipient }).toEqual({
      status: 'sent',
      to: '4155550123',
    });
    expect((await textIn('+14155550123', 'STOP', 'SM-stop-nat')).statusCode).toBe(200);
    clock.set(clock.nowMs() + 60_000);
    const next = await send('nat', 'upsell', 'sms');
    expect({ status: next.status, reasonCode: next.reasonCode }).toEqual({
      status: 'blocked',
      reasonCode: 'unsubscribed',
    });
  });

  it('honours a STOP for a national number written with its trunk 0', async () => {
    const sent = await textedAt('uk', '07911 123456');
    expect(sent?.recipient).toBe('07911123456');
    await textIn('+447911123456', 'STOP', 'SM-stop-uk', '+447700900000');
    clock.set(clock.nowMs() + 60_000);
    expect((await send('uk', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
  });

  it("does not take another country's number for a national one: its national digits are another line", async () => {
    // Texted as 0470123456 from Herald's Belgian number; +61 470 123 456 is someone in Australia.
    const sent = await textedAt('be', '0470 12 34 56');
    expect(sent?.recipient).toBe('0470123456');
    await textIn('+61470123456', 'STOP', 'SM-stop-au', '+32460000000');
    clock.set(clock.nowMs() + 60_000);
    expect((await send('be', 'upsell', 'sms')).reasonCode).toBeNull();
    // The same digits from Belgium are the customer's own line.
    await textIn('+32470123456', 'STOP', 'SM-stop-be', '+32460000000');
    clock.set(clock.nowMs() + 60_000);
    expect((await send('be', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
  });

  it('opts a national-format number back in on START from its own country, not from another', async () => {
    await textedAt('nat', '(415) 555-0123');
    await textIn('+14155550123', 'STOP', 'SM-stop-1');
    clock.set(clock.nowMs() + 60_000);
    expect((await send('nat', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
    // To another number of the account: the text may have gone from another country.
    await textIn('+14155550123', 'START', 'SM-start-0', '+61400000000');
    clock.set(clock.nowMs() + 60_000);
    expect((await send('nat', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
    await textIn('+14155550123', 'START', 'SM-start-1');
    clock.set(clock.nowMs() + 60_000);
    expect((await send('nat', 'upsell', 'sms')).reasonCode).toBeNull();
  });

  it("does not opt a customer in on another country's START to the same national digits", async () => {
    await textedAt('be', '0470 12 34 56');
    await textIn('+32470123456', 'STOP', 'SM-stop-be', '+32460000000');
    // +61 470 123 456 is someone in Australia, texting another number of the account there:
    // their START is not the Belgian customer's.
    await textIn('+61470123456', 'START', 'SM-start-au', '+61400000000');
    clock.set(clock.nowMs() + 60_000);
    expect((await send('be', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
    // Nor is a START once the customer's phone is another number.
    await ingest('identify', { userId: 'be', traits: { phone: '+32470999999' } });
    await textIn('+32470123456', 'START', 'SM-start-be', '+32460000000');
    clock.set(clock.nowMs() + 60_000);
    expect((await send('be', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
  });

  const optIn = (userId: string) =>
    ingest('track', {
      userId,
      event: 'Consent Updated',
      properties: { channel: 'sms', purpose: 'marketing', granted: true, source: 'form' },
    });
  const receipt = async (userId: string) => {
    clock.set(clock.nowMs() + 60_000);
    const sent = await send(userId, 'order-shipped', 'sms', { orderId: 'A-9' });
    return sent.reasonCode;
  };

  it('keeps a STOP with the number: a phone switched back to it gets no text, until START', async () => {
    await textedAt('back', '+14155550131');
    await textIn('+14155550131', 'STOP', 'SM-stop-back');
    // A new number, opted in on a form; then the old number again.
    clock.set(clock.nowMs() + 60_000);
    await ingest('identify', {
      userId: 'back',
      traits: { firstName: 'Bo', timezone: 'America/New_York', phone: '+14155550132' },
    });
    await optIn('back');
    expect(await receipt('back')).toBeNull();
    clock.set(clock.nowMs() + 60_000);
    await ingest('identify', {
      userId: 'back',
      traits: { timezone: 'America/New_York', phone: '+14155550131' },
    });
    expect(await receipt('back')).toBe('unsubscribed');
    const blocked = await send('back', 'upsell', 'sms');
    expect(blocked.status).toBe('blocked');
    // The number texts START: Twilio lifts its STOP, and so does Herald.
    await textIn('+14155550131', 'START', 'SM-start-back');
    expect(await receipt('back')).toBeNull();
  });

  it("holds a STOP on every record with the number, texted or not, until START or the record's own opt-in", async () => {
    await textedAt('parent', '+14155550141');
    await ingest('identify', {
      userId: 'teen',
      traits: {
        firstName: 'Tee',
        timezone: 'America/New_York',
        phone: '+1 (415) 555-0141',
        consent: { sms: { marketing: true } },
      },
    });
    await ingest('identify', {
      userId: 'aunt',
      traits: {
        firstName: 'Au',
        timezone: 'America/New_York',
        phone: '+14155550141',
        consent: { sms: { marketing: true } },
      },
    });
    await textIn('+14155550141', 'STOP', 'SM-stop-house');
    expect(await receipt('teen')).toBe('unsubscribed');
    expect((await send('teen', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
    // An opt-in to order texts after it reaches receipts, not offers.
    await ingest('track', {
      userId: 'teen',
      event: 'Consent Updated',
      properties: { channel: 'sms', purpose: 'transactional', granted: true, source: 'checkout' },
    });
    expect(await receipt('teen')).toBeNull();
    expect((await send('teen', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
    // An opt-in of the record's own after the STOP is one to texts at this number.
    await optIn('aunt');
    expect((await send('aunt', 'upsell', 'sms')).reasonCode).toBeNull();
    await textIn('+14155550141', 'START', 'SM-start-house');
    expect(await receipt('teen')).toBeNull();
    expect((await send('teen', 'upsell', 'sms')).reasonCode).toBeNull();
    // START for the record Herald texted restores only what its STOP withdrew.
    expect((await send('parent', 'upsell', 'sms')).reasonCode).toBeNull();
  });

  it('acts on a STOP once: posted again after START, it stops nothing', async () => {
    await textedAt('again', '+14155550171');
    await textIn('+14155550171', 'STOP', 'SM-stop-again');
    await textIn('+14155550171', 'START', 'SM-start-again');
    expect(await receipt('again')).toBeNull();
    // Twilio posts the STOP again (a retry), or a captured request is replayed.
    expect((await textIn('+14155550171', 'STOP', 'SM-stop-again')).statusCode).toBe(200);
    expect(await receipt('again')).toBeNull();
    expect((await send('again', 'upsell', 'sms')).reasonCode).toBeNull();
  });

  it("does not lift on START a STOP kept for the number's form with a 0: it may be another line", async () => {
    // +39 0312 345678 is a landline in Como (Italian landlines keep their 0 after +39); the
    // mobile +39 312 345 678 is someone else.
    await ingest('identify', {
      userId: 'como',
      traits: { firstName: 'Co', phone: '+390312345678', consent: { sms: { marketing: true } } },
    });
    await textIn('+390312345678', 'STOP', 'SM-stop-como', '+390200000000');
    expect(await receipt('como')).toBe('unsubscribed');
    await textIn('+39312345678', 'START', 'SM-start-mobile', '+390200000000');
    expect(await receipt('como')).toBe('unsubscribed');
  });

  it('restores on START what a STOP texted twice withdrew', async () => {
    await textedAt('twice', '+14155550161');
    await textIn('+14155550161', 'STOP', 'SM-stop-twice-1');
    await textIn('+14155550161', 'STOP', 'SM-stop-twice-2');
    clock.set(clock.nowMs() + 60_000);
    expect((await send('twice', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
    await textIn('+14155550161', 'START', 'SM-start-twice');
    clock.set(clock.nowMs() + 60_000);
    expect((await send('twice', 'upsell', 'sms')).reasonCode).toBeNull();
  });

  it('checks the number again as the text leaves: a STOP on another record while it was queued', async () => {
    await textedAt('first', '+14155550151');
    await ingest('identify', {
      userId: 'second',
      traits: {
        firstName: 'Se',
        timezone: 'America/New_York',
        phone: '+14155550151',
        consent: { sms: { marketing: true } },
      },
    });
    const queued = await send('second', 'upsell', 'sms');
    expect(queued.status).toBe('queued');
    await textIn('+14155550151', 'STOP', 'SM-stop-queued');
    await herald.services.dispatcher.runDue();
    const message = await herald.services.store.getMessage(queued.decisionId);
    expect({ status: message?.status, reasonCode: message?.reasonCode }).toEqual({
      status: 'blocked',
      reasonCode: 'unsubscribed',
    });
  });

  it('refuses at the guard an SMS longer than Twilio takes (1,600 characters)', async () => {
    await ingest('identify', {
      userId: 'longsms',
      traits: { firstName: 'Lou', timezone: 'America/New_York', phone: '+14155550122' },
    });
    const sent = await send('longsms', 'order-note', 'sms', {
      orderId: 'A-2',
      note: 'x'.repeat(1700),
    });
    expect({ status: sent.status, reasonCode: sent.reasonCode }).toEqual({
      status: 'blocked',
      reasonCode: 'sms_too_long',
    });
    const record = await herald.services.store.getMessage(sent.decisionId);
    expect(record?.verdicts.find((v) => v.code === 'sms_too_long')?.figures).toMatchObject({
      limit: 1600,
      encoding: 'GSM-7',
    });
  });
});
