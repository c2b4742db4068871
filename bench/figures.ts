/** One measured figure, printed with its target beside it. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** e.g. '<= 2 s'; absent for figures reported without a target. */
  target?: string;
  /** Whether the target was met (undefined when there is no target). */
  met?: boolean;
  note?: string;
}

export function atMost(name: string, value: number, limit: number, unit: string, note?: string): Figure {
  return { name, value, unit, target: `<= ${limit} ${unit}`.trim(), met: value <= limit, note };
}

export function atLeast(name: string, value: number, limit: number, unit: string, note?: string): Figure {
  return { name, value, unit, target: `>= ${limit} ${unit}`.trim(), met: value >= limit, note };
}

export function info(name: string, value: number, unit: string, note?: string): Figure {
  return { name, value, unit, note };
}

function show(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

export function formatFigures(title: string, figures: Figure[]): string {
  const lines = [`== ${title}`];
  for (const f of figures) {
    const verdict = f.met === undefined ? '' : f.met ? 'met' : 'MISSED';
    const target = f.target ? `target ${f.target}` : '';
    lines.push(
      `  ${f.name.padEnd(58)} ${`${show(f.value)} ${f.unit}`.padEnd(16)} ${target.padEnd(22)} ${verdict}${f.note ? `  (${f.note})` : ''}`,
    );
  }
  return lines.join('\n');
}

/** Parses `--name=value` command-line options into numbers, with defaults. */
export function numericArgs<T extends Record<string, number>>(defaults: T, argv = process.argv.slice(2)): T {
  const out: Record<string, number> = { ...defaults };
  for (const arg of argv) {
    const match = /^--([a-zA-Z]+)=(.+)$/.exec(arg);
    if (!match) throw new Error(`bench: unknown argument ${arg} (expected --name=number)`);
    const [, name, raw] = match;
    if (!(name! in defaults))
      throw new Error(`bench: unknown option --${name}; known: ${Object.keys(defaults).join(', ')}`);
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`bench: --${name} must be a number, got ${raw}`);
    out[name!] = value;
  }
  return out as T;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
