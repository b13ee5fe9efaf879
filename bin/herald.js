#!/usr/bin/env node
// The Herald CLI: compiles the TypeScript sources into one module (bin/compile.js says why not
// through tsx's loader; about a tenth of a second) and runs it, with stack traces mapped back
// to the TypeScript lines.
import { pathToFileURL } from 'node:url';
import { compile } from './compile.js';

process.setSourceMapsEnabled(true);
await import(pathToFileURL(compile('src/cli/main.ts')).href);
