// A workbook's shared strings as a list, and back: how the readers' tests give and compare tables.
import { SharedStrings } from '../../../src/icap-server/extract/spreadsheet-strings.js';

export function tableOf(list: readonly string[]): SharedStrings {
  const table = new SharedStrings();
  for (const s of list) table.add(s);
  return table;
}

export function listOf(table: SharedStrings): (string | undefined)[] {
  return Array.from({ length: table.length }, (_, i) => table.get(i));
}
