import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { AppError, type FieldProblem } from '../core/errors.js';
import { defaultTemplates, templateSchema, type Template } from '../pipeline/render/index.js';

/**
 * The built-in templates, replaced or added to by the files of `dir` (`NAME.yaml`, `.yml` or
 * `.json`; the file name is the template's name unless it gives one). Every problem in every
 * file is reported at once, naming the file and the field.
 */
export const loadTemplates = (dir: string): Template[] => {
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
    byName.set(template.name, template);
  }
  if (problems.length > 0)
    throw new AppError(
      'invalid-config',
      `invalid templates in ${dir}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
      { problems },
    );
  return [...byName.values()];
};
