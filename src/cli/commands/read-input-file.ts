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
  let offset = 0;
  let line = 1;
  // Where the bad byte of `bytes` (the chunk read last) lies; at the file's end, its last byte.
  const fail = (error: unknown, bytes: Uint8Array | null) => {
    const at = bytes === null ? { offset: -1, line: 1 } : firstInvalidByte(bytes);
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
        offset += chunk.length;
        for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) line += 1;
        done(null, text);
      } catch (error) {
        done(fail(error, chunk));
      }
    },
    flush(done) {
      try {
        done(null, decoder.decode());
      } catch (error) {
        done(fail(error, null));
      }
    },
  });
};
