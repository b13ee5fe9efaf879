import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { onFirstUse } from '../core/on-first-use.js';
import { AppError, type FieldProblem } from '../core/errors.js';
import {
  defaultTemplates,
  describeUnsafeOutput,
  findUnsafeOutputs,
  templateSchema,
  type Template,
  type UnsafeOutput,
} from '../pipeline/render/index.js';

/**
 * The built-in templates, replaced or added to by the files of `dir` (`NAME.yaml`, `.yml` or
 * `.json`; the file name is the template's name unless it gives one). A template's `mjml` is
 * compiled into its `html` here, once. Every problem in every file is reported at once, naming
 * the file and the field (and, for MJML, the line of the markup).
 */
export const loadTemplates = async (dir: string): Promise<Template[]> => {
  const byName = new Map(defaultTemplates.map((t) => [t.name, t]));
  if (dir === '') return [...byName.values()];
  const problems: FieldProblem[] = [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)));
  } catch (error) {
    throw new AppError(
      'invalid-config',
      `templates directory ${dir}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const withMjml: { file: string; template: Template; mjml: ProtectedMjml }[] = [];
  for (const file of files.sort()) {
    let raw: unknown;
    try {
      raw = parseYaml(readFileSync(join(dir, file), 'utf8')) as unknown;
    } catch (error) {
      problems.push({
        path: file,
        message: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    const withName =
      typeof raw === 'object' && raw !== null && !Array.isArray(raw)
        ? { name: basename(file, extname(file)), ...(raw as Record<string, unknown>) }
        : raw;
    const value = Value.Default(templateSchema, withName);
    const errors = [...Value.Errors(templateSchema, value)];
    if (errors.length > 0) {
      for (const e of errors) problems.push({ path: `${file}${e.path}`, message: e.message });
      continue;
    }
    const template = value as Template;
    if (template.mjml !== undefined) {
      if (template.html !== null) {
        problems.push({ path: `${file}/html`, message: 'give html or mjml, not both' });
        continue;
      }
      // Delivery puts `preheader` in the HTML as a hidden preview line: with MJML's own, the
      // inbox would show whichever comes first and the other would be read as body text.
      if (template.preheader.trim() !== '' && /<mj-preview[\s>]/i.test(template.mjml)) {
        problems.push({
          path: `${file}/preheader`,
          message:
            'give the preview line once: in preheader (which the guardrails read), or in <mj-preview>, not both',
        });
        continue;
      }
      withMjml.push({ file, template, mjml: protectLiquid(template.mjml) });
    } else if (template.html !== null)
      problems.push(...unsafeOutputProblems(`${file}/html`, template.html, ''));
    byName.set(template.name, template);
  }
  const outcomes = await compileMjml(withMjml.map((m) => m.mjml.markup));
  withMjml.forEach(({ file, template, mjml }, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined) throw new Error(`no MJML outcome for ${file}`);
    if ('errors' in outcome) {
      for (const e of outcome.errors)
        problems.push({
          path: `${file}/mjml`,
          message: `${e.line === null ? '' : `line ${mjml.lineOf(e.line)}: `}${e.message}`,
        });
      return;
    }
    const restored = restoreLiquid(outcome.html, mjml.tags);
    if ('lost' in restored) {
      for (const tag of restored.lost)
        problems.push({
          path: `${file}/mjml`,
          message: `the compiler dropped the Liquid ${tag}: Liquid between MJML elements must stand in <mj-raw>`,
        });
      return;
    }
    // Judged as compiled: MJML moves attributes into CSS (a section's `background-url`).
    const unsafe = unsafeOutputProblems(`${file}/mjml`, restored.html, 'the compiled HTML, ');
    if (unsafe.length > 0) {
      problems.push(...unsafe);
      return;
    }
    // A later file with the same name replaced this one: it stays replaced.
    if (byName.get(template.name) !== template) return;
    const compiled: Template = { ...template, html: restored.html };
    delete compiled.mjml;
    byName.set(template.name, compiled);
  });
  if (problems.length > 0)
    throw new AppError(
      'invalid-config',
      `invalid templates in ${dir}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
      { problems },
    );
  return [...byName.values()];
};

/** The Liquid of an HTML part that escaping cannot keep in place (`findUnsafeOutputs`). */
const unsafeOutputProblems = (path: string, html: string, where: string): FieldProblem[] => {
  let unsafe: UnsafeOutput[];
  try {
    unsafe = findUnsafeOutputs(html);
  } catch {
    // Liquid that does not parse: the renderer names the template and the error.
    return [];
  }
  return unsafe.map((output) => ({ path, message: `${where}${describeUnsafeOutput(output)}` }));
};

/** MJML with each Liquid tag replaced by a placeholder the compiler leaves alone. */
interface ProtectedMjml {
  markup: string;
  /** The Liquid tags, in order: placeholder `i` stands for `tags[i]`. */
  tags: string[];
  /** The line of the original markup that a line of `markup` comes from (both from 1). */
  lineOf(line: number): number;
}

const liquidTag = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;
const placeholder = (i: number): string => `LIQUID${String(i)}HERALD`;
const newlinesIn = (s: string): number => s.split('\n').length - 1;

/**
 * Replaces Liquid by placeholders before MJML sees it: the compiler parses markup as XML and
 * rewrites attributes and text, so a `"` in a filter argument or a `>` in a condition would not
 * come through intact.
 */
const protectLiquid = (source: string): ProtectedMjml => {
  const tags: string[] = [];
  // shifts[k]: how many lines the tags before line k+1 of the markup spanned beyond their own.
  const shifts: number[] = [0];
  let shift = 0;
  let markup = '';
  let from = 0;
  const append = (text: string) => {
    for (let n = newlinesIn(text); n > 0; n--) shifts.push(shift);
    markup += text;
  };
  for (const match of source.matchAll(liquidTag)) {
    append(source.slice(from, match.index));
    markup += placeholder(tags.length);
    tags.push(match[0]);
    shift += newlinesIn(match[0]);
    from = match.index + match[0].length;
  }
  append(source.slice(from));
  return { markup, tags, lineOf: (line) => line + (shifts[line - 1] ?? shift) };
};

/** Puts the Liquid back, or names the tags the compiler dropped. */
const restoreLiquid = (
  html: string,
  tags: readonly string[],
): { html: string } | { lost: string[] } => {
  const lost = tags.filter((_, i) => !html.includes(placeholder(i)));
  if (lost.length > 0) return { lost };
  return {
    html: html.replace(/LIQUID(\d+)HERALD/g, (found, i: string) => tags[Number(i)] ?? found),
  };
};

type MjmlOutcome = { html: string } | { errors: { line: number | null; message: string }[] };

interface MjmlError {
  line?: number;
  tagName?: string;
  message: string;
}
type Mjml2Html = (
  source: string,
  options: { validationLevel: 'strict'; keepComments: boolean; ignoreIncludes: boolean },
) => Promise<{ html: string }>;

// mjml is CommonJS without types of its own, and takes about 0.7 s to load.
const mjml2html = onFirstUse<Mjml2Html>('mjml');

/**
 * Compiles MJML documents with the `mjml` package, one outcome per source in order.
 * `strict`: a template with any MJML validation error is not compiled; its errors are returned.
 */
const compileMjml = async (sources: readonly string[]): Promise<MjmlOutcome[]> => {
  if (sources.length === 0) return [];
  const outcomes: MjmlOutcome[] = [];
  for (const source of sources) {
    try {
      const { html } = await mjml2html()(source, {
        validationLevel: 'strict',
        keepComments: false,
        ignoreIncludes: true,
      });
      outcomes.push({ html });
    } catch (error) {
      const errors = (error as { errors?: MjmlError[] }).errors;
      outcomes.push({
        errors: Array.isArray(errors)
          ? errors.map((e) => ({
              line: e.line ?? null,
              message: `${e.tagName === undefined ? '' : `<${e.tagName}> `}${e.message.trim()}`,
            }))
          : [{ line: null, message: error instanceof Error ? error.message : String(error) }],
      });
    }
  }
  return outcomes;
};
