// Characters a terminal acts on instead of showing: C0 controls but tab and line feed (ESC opens
// sequences that clear the screen, set the window title or write the clipboard), DEL, the C1
// controls (U+009B is a one-character CSI to some terminals) and bidi overrides and isolates,
// which show other text than is there. Carriage return too on standard output, where a value
// could overwrite the line before it; standard error keeps it for progress lines.
const UNSAFE_OUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_ERR =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const escaped = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Text with every character a terminal would act on written as its `\uXXXX` escape. */
export const terminalSafe = (text: string, keepCarriageReturn = false): string =>
  text.replace(keepCarriageReturn ? UNSAFE_ERR : UNSAFE_OUT, escaped);

/**
 * Makes everything the CLI writes to a stream terminal-safe: customer data (a name, a product,
 * a user id) reaches the operator's terminal in previews, lists and errors, and anyone holding a
 * public write key can put escape sequences in it. JSON output stays valid and means the same
 * (the characters are inside strings, and `\u001b` is their JSON escape).
 */
export const guardStream = (stream: NodeJS.WriteStream, keepCarriageReturn = false): void => {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  // A reader that went away (`herald segments | head -1`): what is left to print is wanted by
  // nobody, and the command goes on to its end and its own exit code (an import keeps importing)
  // rather than dying of Node's unhandled EPIPE, a stack trace and exit 1.
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  stream.write = (chunk: unknown, ...rest: unknown[]) => {
    if (closed) {
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }
    return write(
      typeof chunk === 'string' ? terminalSafe(chunk, keepCarriageReturn) : chunk,
      ...rest,
    );
  };
};
