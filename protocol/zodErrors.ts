import type { z } from 'zod';

type Issue = z.ZodError['issues'][number];
type IssuePath = Issue['path'];

/** An issue's path as dots (`tenants.0.id`), or `root` for an issue about the whole value. */
export function issuePath(issue: Issue, root = '(root)'): string {
  return issue.path.map(String).join('.') || root;
}

/** One issue as `field: message`; an issue about the whole value as `root: message`, or its bare message when root is ''. */
export function describeIssue(issue: Issue, root = '(root)'): string {
  const path = issuePath(issue, root);
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Zod issues rendered as "field: message; field: message". */
export function describeZodError(error: z.ZodError, root = '(root)'): string {
  return error.issues.map((i) => describeIssue(i, root)).join('; ');
}

/** The first issue only (a request body, one option): its field, and `field: message`. */
export function firstZodIssue(error: z.ZodError, root = '(root)'): { field: string; message: string } {
  const issue = error.issues[0]!;
  return { field: issuePath(issue, root), message: describeIssue(issue, root) };
}

/**
 * For files: one `place: message` per issue, the place named by `placeOf` (e.g. with the entry's
 * name beside its index), by default the path or `(file)`.
 */
export function zodErrorLines(
  error: z.ZodError,
  placeOf: (path: IssuePath) => string = (path) => path.map(String).join('.') || '(file)',
): string[] {
  return error.issues.map((i) => `${placeOf(i.path)}: ${i.message}`);
}
