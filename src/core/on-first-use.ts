import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded when first asked for rather than when Herald starts. Packages that
 * only some commands or configurations use (the HTTP server, the PostgreSQL driver, the SMTP
 * and OpenAI clients, the MJML compiler) would otherwise cost every `herald` command the time
 * to load them (docs/architecture.md, "How Herald runs"). The package's types come from an
 * `import type` beside the call.
 */
// The type is the caller's claim about the package (`typeof import`), which require cannot check.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export const onFirstUse = <T>(name: string): (() => T) => {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
};
