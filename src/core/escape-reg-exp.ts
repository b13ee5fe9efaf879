/** `text` with every character a regular expression gives a meaning escaped: matched as written. */
export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
