import { readFileSync } from 'node:fs';
import { Transform } from 'node:stream';
import { AppError } from '../../core/errors.js';

// Fatal: a byte that is not UTF-8 is an error, never a U+FFFD written silently into what the
// file feeds (approved copy, customer data). A leading byte-order mark is dropped.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Where the first byte that is not UTF-8 lies: its offset, and its line (from 1). */
const firstInvalidByte = (bytes: Uint8Array): { offset: number; line: number } => {
  // Decoded leniently, the text is exact up to the first replacement character that does not
  // stand for a U+FFFD written in the file (EF BF BD): there lies the first invalid byte.
  const text = new TextDecoder('utf-8').decode(bytes);
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (let at = text.indexOf('\uFFFD'); at !== -1; at = text.indexOf('\uFFFD', at + 1)) {
    const offset = bom + Buffer.byteLength(text.slice(0, at));
    if (!(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd))
      return { offset, line: text.slice(0, at).split('\n').length };
  }
  return { offset: bytes.length, line: text.split('\n').length };
};

/**
 * A file a command was given, as text: one that is not there is `not-found` (exit 66), a folder,
 * one that cannot be read or one that is not UTF-8 `invalid-input` (exit 65) with the reason
 * (for text that is not UTF-8, where its first bad byte lies), never a stack trace.
 */
export const readInputFile = (file: string): string => {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('not-found', `no file ${file}`, { cause: error });
    if (code === 'EISDIR')
      throw new AppError('invalid-input', `${file} is a folder, not a file`, { cause: error });
    throw new AppError('invalid-input', `cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return utf8.decode(bytes);
  } catch (error) {
    const { offset, line } = firstInvalidByte(bytes);
    throw new AppError(
      'invalid-input',
      `${file} is not UTF-8 text (byte ${String(offset)}, line ${String(line)}): save it as UTF-8`,
      { cause: error },
    );
  }
};

/**
 * The bytes of `file`, streamed, as UTF-8 text: a byte that is not UTF-8 fails the stream with
 * `invalid-input` naming where it lies, as `readInputFile` does, rather than reaching a parser as
 * U+FFFD (a Latin-1 `Männer` was an arm of its own, `M�nner`).
 */
export const utf8Text = (file: string): Transform => {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // Bytes and lines before `carry`: the end of the chunk read last that the decoder holds, a
  // character the next chunk completes (a Latin-1 `ä` there is such a beginning too).
  let offset = 0;
  let line = 1;
  let carry: Uint8Array = new Uint8Array(0);
  // Where the first bad byte of `carry` and then `chunk` lies, in the file.
  const fail = (error: unknown, chunk: Uint8Array) => {
    const bytes = new Uint8Array(carry.length + chunk.length);
    bytes.set(carry);
    bytes.set(chunk, carry.length);
    const at = firstInvalidByte(bytes);
    return new AppError(
      'invalid-input',
      `${file} is not UTF-8 text (byte ${String(offset + at.offset)}, line ${String(line + at.line - 1)}): save it as UTF-8`,
      { cause: error },
    );
  };
  return new Transform({
    decodeStrings: true,
    readableObjectMode: false,
    transform(chunk: Buffer, _encoding, done) {
      try {
        const text = decoder.decode(chunk, { stream: true });
        for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) line += 1;
        const all = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
        const held = heldBack(all);
        offset += all.length - held;
        carry = all.subarray(all.length - held);
        done(null, text);
      } catch (error) {
        done(fail(error, chunk));
      }
    },
    flush(done) {
      try {
        done(null, decoder.decode());
      } catch (error) {
        // A character cut off by the file's end: where it begins.
        done(fail(error, new Uint8Array(0)));
      }
    },
  });
};

/**
 * How many bytes at the end of `bytes` begin a character they do not finish (0–3): what a
 * streaming decoder holds back for the next chunk.
 */
const heldBack = (bytes: Uint8Array): number => {
  for (let k = 1; k <= Math.min(3, bytes.length); k += 1) {
    const byte = bytes[bytes.length - k] ?? 0;
    if ((byte & 0xc0) === 0x80) continue;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > k ? k : 0;
  }
  return 0;
};
