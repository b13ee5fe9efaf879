import { readFileSync } from 'node:fs';
import { AppError } from '../../core/errors.js';

/**
 * A file a command was given, as text: one that is not there is `not-found` (exit 66), a folder
 * or one that cannot be read `invalid-input` (exit 65) with the reason, never a stack trace.
 */
export const readInputFile = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('not-found', `no file ${file}`, { cause: error });
    if (code === 'EISDIR')
      throw new AppError('invalid-input', `${file} is a folder, not a file`, { cause: error });
    throw new AppError('invalid-input', `cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
};
