import { writeFileSync } from 'node:fs';
import { AppError } from '../../core/errors.js';

/** Writes a file a command was asked for; one that cannot be written is invalid input naming it. */
export const writeOutputFile = (file: string, text: string, label = '--out'): void => {
  try {
    writeFileSync(file, text);
  } catch (error) {
    throw new AppError(
      'invalid-input',
      `${label}: cannot write ${file}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
};
