#!/usr/bin/env node
// The Herald CLI: compiles the TypeScript sources into one module (bin/compile.js says why not
// through tsx's loader; about a tenth of a second) and runs it.
import { run } from './compile.js';

await run('src/cli/main.ts');
