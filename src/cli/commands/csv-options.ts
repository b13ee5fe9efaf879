import type { Options } from 'csv-parse';

/**
 * How Herald reads a CSV file: a BOM skipped, blank lines skipped, fields trimmed, rows of any
 * length, the position of each record given (`info`), and a row csv-parse cannot read skipped
 * (its `on_skip` reports it) instead of failing the whole stream.
 */
export const TOLERANT_CSV: Options = {
  bom: true,
  skip_empty_lines: true,
  trim: true,
  info: true,
  relax_column_count: true,
  skip_records_with_error: true,
};
