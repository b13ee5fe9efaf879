#!/usr/bin/env node
// The Herald CLI: compiles the TypeScript sources into one module (bin/compile.js says why not
// through tsx's loader; about a tenth of a second) and runs it.
import { run } from './compile.js';

// Herald keeps every time in UTC and works out a customer's local time from their zone; the
// process's own zone is set to UTC so that nothing Herald runs (liquidjs's `date` filter, which
// read wall-clock fields in the server's zone and was an hour off near its clock changes) can
// depend on where the server is.
process.env.TZ = 'UTC';
await run('src/cli/main.ts');
