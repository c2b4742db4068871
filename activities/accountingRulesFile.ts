import { readFile } from 'node:fs/promises';
import { AccountingRulesError, parseAccountingRules, type AccountingRules } from '../rules/accountingRulesSchema.js';

/** Reads and validates a rules file; every problem is an AccountingRulesError naming the file. */
export async function loadAccountingRulesFile(path: string): Promise<AccountingRules> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AccountingRulesError(`cannot read the accounting rules file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AccountingRulesError(`accounting rules file ${path} is not JSON: ${(error as Error).message}`);
  }
  return parseAccountingRules(raw, `accounting rules file ${path}`);
}
