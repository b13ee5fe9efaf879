import type { Channel, Device, ProfileState } from './profile.js';

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

/** `+` and digits only; a number without `+` is taken as given (providers reject what is wrong). */
export const normalisePhone = (raw: string): string => {
  const trimmed = raw.trim();
  const digits = trimmed.replace(/[^\d]/g, '');
  return trimmed.startsWith('+') || trimmed.startsWith('00')
    ? `+${trimmed.startsWith('00') ? digits.slice(2) : digits}`
    : digits;
};

export interface Recipient {
  to: string;
  platform?: 'ios' | 'android' | 'web';
}

const text = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : null;

/** The customer's phone for SMS or WhatsApp, unless a provider said it cannot receive there. */
const reachablePhone = (state: ProfileState, channel: 'sms' | 'whatsapp'): string | null => {
  const phone = text(state.traits['phone']);
  if (phone === null) return null;
  const to = normalisePhone(phone);
  return state.unreachable?.[channel] === to ? null : to;
};

/**
 * Where a message for this channel goes: the `email` trait, the `phone` trait (SMS and
 * WhatsApp, unless that number failed for good there), the most recently seen push device, or
 * — web content — the customer itself. Null when the profile has none.
 */
export const recipientOf = (state: ProfileState, channel: Channel): Recipient | null => {
  switch (channel) {
    case 'email': {
      const email = text(state.traits['email']);
      return email !== null && EMAIL.test(email) ? { to: email.toLowerCase() } : null;
    }
    case 'sms':
    case 'whatsapp': {
      const to = reachablePhone(state, channel);
      return to === null ? null : { to };
    }
    case 'push': {
      // The most recently seen (the first of equals), without copying the list.
      let device: Device | undefined;
      for (const d of state.devices ?? [])
        if (device === undefined || d.seenAtMs > device.seenAtMs) device = d;
      return device === undefined ? null : { to: device.token, platform: device.platform };
    }
    case 'web':
      return { to: state.customerId };
  }
};

/**
 * Whether `recipientOf` finds someone, without building the recipient: channel choice asks it of
 * every channel of every message proposed.
 */
export const hasRecipient = (state: ProfileState, channel: Channel): boolean => {
  switch (channel) {
    case 'email': {
      const email = state.traits['email'];
      return typeof email === 'string' && EMAIL.test(email.trim());
    }
    case 'sms':
    case 'whatsapp':
      return state.unreachable === undefined
        ? text(state.traits['phone']) !== null
        : reachablePhone(state, channel) !== null;
    case 'push':
      return (state.devices?.length ?? 0) > 0;
    case 'web':
      return true;
  }
};
