/**
 * A code set written once: each name with its code and label, so that a code cannot be added
 * without its label and the two tables cannot drift apart.
 */
type Code = string | number;

/** The codes of a table whose entries carry a `code`, by name, with their literal types. */
export function codesOf<const T extends Record<string, { readonly code: Code }>>(
  table: T,
): { readonly [K in keyof T]: T[K]['code'] } {
  return Object.freeze(Object.fromEntries(Object.entries(table).map(([name, entry]) => [name, entry.code]))) as {
    readonly [K in keyof T]: T[K]['code'];
  };
}

/** From `{ Name: [code, label] }`: the codes by name and the labels by code. */
export function codeSet<const T extends Record<string, readonly [Code, string]>>(
  table: T,
): {
  codes: { readonly [K in keyof T]: T[K][0] };
  labels: Readonly<Record<T[keyof T][0], string>>;
} {
  const entries = Object.entries(table);
  return {
    codes: Object.freeze(Object.fromEntries(entries.map(([name, [code]]) => [name, code]))) as {
      readonly [K in keyof T]: T[K][0];
    },
    labels: Object.freeze(Object.fromEntries(entries.map(([, [code, label]]) => [code, label]))) as Record<
      T[keyof T][0],
      string
    >,
  };
}
