import { parseDateInput } from '../../core/time.js';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseCsv } from 'csv-parse/sync';
import { AppError, type FieldProblem } from '../../core/errors.js';
import type { StoredDocument } from '../../ports/content-store.js';
import { readInputFile } from './read-input-file.js';
import {
  asReadNow,
  describeInvalidDocument,
  documentsInForceOrScheduled,
  parseDocument,
  withdrawalOf,
  type ContentDocument,
} from '../../pipeline/content/index.js';
import {
  personalize,
  type PersonalizeResult,
  type ScenarioCustomer,
} from '../../pipeline/personalize.js';
import { loadServices } from '../load-services.js';
import { parseIntegerOption } from './parse-integer-option.js';
import { writeOutputFile } from './write-output-file.js';

/** The variants per segment the composer writes (`composeVariants`). */
const VARIANTS = { min: 3, max: 5 };

/**
 * Every `.json` and `.md` document of a directory; every invalid file, and every version found
 * in two files, is reported at once (exit 65).
 */
export const readContentDir = (dir: string): ContentDocument[] => {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => ['.json', '.md', '.markdown'].includes(extname(f).toLowerCase()))
      .sort();
  } catch (error) {
    throw new AppError(
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not-found' : 'invalid-input',
      `content directory ${dir}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const docs: ContentDocument[] = [];
  const problems: string[] = [];
  const fileOf = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = readInputFile(join(dir, file));
    } catch (error) {
      // A link to nothing, a folder named like a document: named with the other problems.
      problems.push(`${file}: ${(error as Error).message}`);
      continue;
    }
    const parsed = parseDocument(text, file);
    if (!parsed.ok) {
      problems.push(describeInvalidDocument(parsed.error));
      continue;
    }
    // One version in two files: whichever were read first would win, by file name alone.
    const { id, version } = parsed.value;
    const first = fileOf.get(JSON.stringify([id, version]));
    if (first !== undefined)
      problems.push(
        `${file}: document ${id} version ${version} is also in ${first} — a version is given once: remove one file, or give it a new version`,
      );
    else fileOf.set(JSON.stringify([id, version]), file);
    docs.push(parsed.value);
  }
  if (problems.length > 0)
    throw new AppError('invalid-input', `invalid documents in ${dir}:\n  ${problems.join('\n  ')}`);
  return docs;
};

const hashOf = (doc: unknown): string =>
  createHash('sha256').update(JSON.stringify(doc)).digest('hex');

/**
 * Whether a stored version holds `doc`'s content (`hash`): the same hash, or the same once both
 * are read as `parseDocument` now reads a file (`asReadNow`: LF line endings, `A, B` as two
 * audiences, a date-only expiry as the moment it ends) — a version imported before is not a
 * changed one.
 */
const holds = (stored: StoredDocument, doc: ContentDocument, hash: string): boolean =>
  stored.hash === hash ||
  hashOf(asReadNow(stored.document as ContentDocument)) === hashOf(asReadNow(doc));

const number = (
  row: Record<string, string>,
  column: string,
  line: number,
  problems: FieldProblem[],
) => {
  const value = Number(row[column]);
  if (row[column] === undefined || row[column] === '' || !Number.isFinite(value)) {
    problems.push({
      path: `line ${String(line)}/${column}`,
      message: `is not a number: ${JSON.stringify(row[column] ?? null)}`,
    });
    return 0;
  }
  return value;
};

/** The personalisation scenario's customers file; every bad row is named. */
/** The columns `herald personalize` reads from a customers file (`tier` when there is one). */
const SCENARIO_COLUMNS = [
  'customer_id',
  'purchase_frequency',
  'avg_order_value',
  'last_engagement_days',
] as const;

export const readScenarioCustomers = (file: string): ScenarioCustomer[] => {
  const text = readInputFile(file);
  let rows: Record<string, string>[];
  let header: string[] = [];
  try {
    rows = parseCsv<Record<string, string>>(text, {
      columns: (names: string[]) => (header = names),
      skip_empty_lines: true,
      trim: true,
    });
  } catch (error) {
    throw new AppError(
      'invalid-input',
      `customers file ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // A file without a column the segments are read from is said to be one, once, not as a
  // missing value on every row.
  const absent = SCENARIO_COLUMNS.filter((name) => !header.includes(name));
  if (absent.length > 0)
    throw new AppError(
      'invalid-input',
      `customers file ${file} has no column ${absent.map((n) => JSON.stringify(n)).join(', ')}; its columns are ${header.map((h) => JSON.stringify(h)).join(', ') || 'none'} (it needs ${SCENARIO_COLUMNS.join(', ')}, and tier when there is one)`,
    );
  const problems: FieldProblem[] = [];
  const customers = rows.map((row, i) => {
    const line = i + 2;
    const id = row['customer_id'] ?? '';
    if (id === '')
      problems.push({ path: `line ${String(line)}/customer_id`, message: 'is missing' });
    return {
      id,
      tier: row['tier'] ?? '',
      purchaseFrequency: number(row, 'purchase_frequency', line, problems),
      avgOrderValue: number(row, 'avg_order_value', line, problems),
      lastEngagementDays: number(row, 'last_engagement_days', line, problems),
    };
  });
  if (problems.length > 0)
    throw new AppError('invalid-input', `invalid customers in ${file}`, { problems });
  return customers;
};

/** How a segment's documents were retrieved, when an embedding model is configured. */
const retrievalOf = (s: PersonalizeResult['segments'][number]): string =>
  s.vectors === undefined
    ? ''
    : s.vectors.used
      ? ` (hybrid, ${String(s.vectors.tokens)} embedding tokens)`
      : ` (terms alone: ${s.vectors.reason})`;

const describeRetrieved = (d: PersonalizeResult['segments'][number]['retrieved'][number]) =>
  d.bm25 === undefined
    ? `${d.id} ${d.score.toFixed(2)}`
    : `${d.id} ${d.score.toFixed(4)} (bm25 ${d.bm25 === null ? '-' : d.bm25.toFixed(2)}, similarity ${d.similarity == null ? '-' : d.similarity.toFixed(3)})`;

const summary = (r: PersonalizeResult): string => {
  const lines = [
    `${String(r.customers)} customers, ${String(r.documents.usable)} of ${String(r.documents.total)} documents usable`,
    r.usage.calls === 0
      ? 'language model: no calls'
      : `language model: ${String(r.usage.calls)} calls, ${String(r.usage.promptTokens)} prompt + ${String(r.usage.completionTokens)} completion tokens, $${r.usage.costUsd.toFixed(4)}`,
  ];
  for (const s of r.segments) {
    lines.push(
      '',
      `${s.segment} (${String(s.customers)} customers) — ${s.generator}${s.fallback === null ? '' : ` (fallback: ${s.fallback})`}`,
    );
    if (s.skipped !== null) lines.push(`  skipped: ${s.skipped}`);
    lines.push(`  retrieved${retrievalOf(s)}: ${s.retrieved.map(describeRetrieved).join(', ')}`);
    if (s.vectors?.used === true)
      lines.push(
        `  nearest in meaning: ${s.vectors.nearest.map((d) => `${d.id} ${d.similarity.toFixed(3)}`).join(', ')}`,
      );
    for (const v of s.variants)
      lines.push(
        `  - [${v.strategy}/${v.tone}] ${v.subject}`,
        `    cites ${v.citations.join(', ')}; brand ${v.scores.brandConsistency.toFixed(2)}, tone ${v.scores.toneConsistency.toFixed(2)}, length ${v.scores.lengthAppropriateness.toFixed(2)}; safety ${v.safety.outcome}; grounding ${v.grounding.ok ? 'ok' : `replaced (${v.grounding.problems.map((p) => p.claim).join(', ')})`}`,
      );
  }
  return lines.join('\n');
};

/** `herald content import DIR` and `herald personalize`. */
export const registerContentCommands = (program: Command): void => {
  const content = program.command('content').description('the approved content library');
  content
    .command('import')
    .description(
      'import approved documents (JSON, or Markdown with front matter); versions are kept, and documents in force that DIR no longer holds are named (`missing`)',
    )
    .argument('<dir>', 'a directory of documents')
    .option(
      '--withdraw-missing',
      'withdraw the missing documents: each gets a version that expires at once (nothing is deleted)',
    )
    .action(async (dir: string, options: { withdrawMissing?: boolean }) => {
      const docs = readContentDir(dir);
      // An empty folder, or the wrong one, would withdraw the whole library.
      if (options.withdrawMissing === true && docs.length === 0)
        throw new AppError(
          'invalid-input',
          `${dir} holds no documents: --withdraw-missing would withdraw every document in the library`,
        );
      const services = await loadServices(process.env);
      try {
        const library = await services.store.listDocuments();
        const nowMs = services.clock.nowMs();
        // All or nothing: every version is checked against the library before any is stored,
        // so a refused import leaves nothing behind to refuse the corrected one.
        const stored = new Map(library.map((d) => [JSON.stringify([d.id, d.version]), d]));
        const planned = docs.map((doc) => {
          const hash = hashOf(doc);
          const known = stored.get(JSON.stringify([doc.id, doc.version]));
          return {
            doc,
            hash,
            outcome: known === undefined ? 'new' : holds(known, doc, hash) ? 'same' : 'conflict',
          };
        });
        const conflicts = planned
          .filter((p) => p.outcome === 'conflict')
          .map((p) => `${p.doc.id}@${p.doc.version}`);
        // The folder is the approved library as it stands: a document it no longer holds, in
        // force or approved for later, would otherwise stay in use for as long as it is valid.
        const inFolder = new Set(docs.map((d) => d.id));
        const missing = documentsInForceOrScheduled(
          library.map((d) => ({
            document: asReadNow(d.document as ContentDocument),
            importedAtMs: d.importedAtMs,
          })),
          nowMs,
        ).filter((d) => !inFolder.has(d.id));
        let storedCount = 0;
        let unchanged = planned.filter((p) => p.outcome === 'same').length;
        for (const { doc, hash, outcome } of conflicts.length > 0 ? [] : planned) {
          if (outcome !== 'new') continue;
          const saved = await services.store.saveDocument({
            id: doc.id,
            version: doc.version,
            hash,
            document: doc,
            importedAtMs: nowMs,
          });
          // Stored meanwhile by another import: its content is the one kept.
          if (saved === 'conflict') conflicts.push(`${doc.id}@${doc.version}`);
          else if (saved === 'new') storedCount += 1;
          else unchanged += 1;
        }
        const withdrawn: string[] = [];
        if (options.withdrawMissing === true && conflicts.length === 0)
          for (const doc of missing) {
            // A tombstone: a new version, approved and expiring now, hides every version before.
            const withdrawal = withdrawalOf(doc, nowMs);
            const saved = await services.store.saveDocument({
              id: withdrawal.id,
              version: withdrawal.version,
              hash: hashOf(withdrawal),
              document: withdrawal,
              importedAtMs: nowMs,
            });
            if (saved !== 'conflict') withdrawn.push(doc.id);
          }
        console.log(
          JSON.stringify({
            documents: docs.length,
            stored: storedCount,
            unchanged,
            conflicts,
            missing: missing.map((d) => d.id),
            withdrawn,
          }),
        );
        if (withdrawn.length > 0)
          console.error(`withdrawn (no longer in ${dir}): ${withdrawn.join(', ')}`);
        const kept = missing.filter((d) => !withdrawn.includes(d.id));
        if (kept.length > 0)
          console.error(
            `in force (or approved for later) but not in ${dir}: ${kept.map((d) => d.id).join(', ')} — import with --withdraw-missing to withdraw ${kept.length === 1 ? 'it' : 'them'}`,
          );
        if (conflicts.length > 0) {
          console.error(
            `refused: ${conflicts.join(', ')} — a stored version has other content; give the document a new version${storedCount === 0 ? ' (nothing was imported)' : ''}`,
          );
          process.exitCode = 75;
        }
      } finally {
        await services.close();
      }
    });

  program
    .command('personalize')
    .description(
      'segment customers, retrieve approved content, write cited variants per segment, screen and score them',
    )
    .requiredOption(
      '--customers <file>',
      'customers CSV (customer_id, tier, purchase_frequency, avg_order_value, last_engagement_days, …)',
    )
    .requiredOption('--content <dir>', 'approved documents (JSON or Markdown)')
    .option('--out <file>', 'write the full result as JSON')
    .option(
      '--variants <n>',
      `variants per segment (${String(VARIANTS.min)}–${String(VARIANTS.max)})`,
      '3',
    )
    .option('--at <date>', 'judge document validity at this moment (default: now)')
    .option(
      '--model <name>',
      '`openai` to ask the configured model (the composer stays the fallback)',
    )
    .action(
      async (options: {
        customers: string;
        content: string;
        out?: string;
        variants: string;
        at?: string;
        model?: string;
      }) => {
        const variants = parseIntegerOption(options.variants, '--variants', VARIANTS);
        const customers = readScenarioCustomers(options.customers);
        const documents = readContentDir(options.content);
        const services = await loadServices(process.env);
        try {
          const c = services.config.content;
          if (options.model !== undefined && options.model !== 'openai')
            throw new AppError('invalid-input', `unknown model "${options.model}": use openai`);
          if (options.model === 'openai' && c.openaiApiKey === '')
            throw new AppError('invalid-config', '--model openai needs HERALD_OPENAI_API_KEY');
          const atMs =
            options.at === undefined ? services.clock.nowMs() : parseDateInput(options.at, '--at');
          const started = performance.now();
          const result = await personalize(customers, documents, {
            ...services.writing(
              atMs,
              options.model === 'openai' ? (services.languageModel ?? undefined) : undefined,
            ),
            variants,
          });
          const seconds = (performance.now() - started) / 1000;
          console.log(summary(result));
          console.log(`\n(${seconds.toFixed(3)} s)`);
          if (options.out !== undefined)
            writeOutputFile(options.out, `${JSON.stringify(result, null, 2)}\n`);
        } finally {
          await services.close();
        }
      },
    );
};
