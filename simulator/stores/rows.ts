/** A row as better-sqlite3 returns it, and the conversions the stores read columns with. */
export type Row = Record<string, unknown>;

export const str = (v: unknown) => String(v);
export const num = (v: unknown) => Number(v);
export const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));
