/** One sample of the Prometheus text format: `name{label="value",...} value [timestamp]`. */
export interface PrometheusSample {
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  readonly value: number;
}

export interface ParsedPrometheusText {
  readonly samples: PrometheusSample[];
  /** Lines that are neither a comment, blank, nor a well-formed sample (skipped). */
  readonly skippedLines: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/**
 * Parses the Prometheus text exposition format (version 0.0.4), as Triton's metrics port
 * serves it: `# HELP` / `# TYPE` and other comments and blank lines are skipped; each
 * other line is one sample. Label values may hold `\\`, `\"` and `\n` escapes. A line
 * that is not well formed (a bad name, an unclosed label set, a duplicate label, a value
 * that is not a number) is skipped and counted, never fatal: one odd line of a scrape
 * must not hide the rest.
 */
export function parsePrometheusText(text: string): ParsedPrometheusText {
  const samples: PrometheusSample[] = [];
  let skippedLines = 0;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseSampleLine(line);
    if (sample === null) skippedLines += 1;
    else samples.push(sample);
  }
  return { samples, skippedLines };
}

/** One sample line (trimmed, not a comment), or null when it is not well formed. */
export function parseSampleLine(line: string): PrometheusSample | null {
  const name = NAME.exec(line)?.[0];
  if (name === undefined) return null;
  let rest = line.slice(name.length);
  const labels = new Map<string, string>();
  if (rest.startsWith('{')) {
    const end = readLabels(rest, labels);
    if (end < 0) return null;
    rest = rest.slice(end);
  }
  // The value (and an optional timestamp, ignored) follow after whitespace.
  if (!/^[ \t]/.test(rest)) return null;
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length < 1 || fields.length > 2) return null;
  const value = parseValue(fields[0] ?? '');
  if (value === null) return null;
  if (fields[1] !== undefined && !/^-?[0-9]+$/.test(fields[1])) return null;
  return { name, labels, value };
}

/** Reads `{name="value",...}` at the start of text into labels; returns the index after `}`, or -1 when malformed. */
function readLabels(text: string, labels: Map<string, string>): number {
  let at = 1;
  const skipSpaces = (): void => {
    while (text[at] === ' ' || text[at] === '\t') at += 1;
  };
  for (;;) {
    skipSpaces();
    if (text[at] === '}') return at + 1;
    const labelName = LABEL_NAME.exec(text.slice(at))?.[0];
    if (labelName === undefined || labels.has(labelName)) return -1;
    at += labelName.length;
    skipSpaces();
    if (text[at] !== '=') return -1;
    at += 1;
    skipSpaces();
    if (text[at] !== '"') return -1;
    at += 1;
    let value = '';
    for (;;) {
      const char = text[at];
      if (char === undefined) return -1;
      if (char === '"') break;
      if (char === '\\') {
        const escaped = text[at + 1];
        if (escaped === 'n') value += '\n';
        else if (escaped === '\\' || escaped === '"') value += escaped;
        else return -1;
        at += 2;
        continue;
      }
      value += char;
      at += 1;
    }
    at += 1;
    labels.set(labelName, value);
    skipSpaces();
    if (text[at] === ',') {
      at += 1;
      continue;
    }
    if (text[at] === '}') return at + 1;
    return -1;
  }
}

/**
 * A sample value: a decimal or exponent float, or NaN / Inf / Infinity with an optional
 * sign, in any case (as Prometheus reads them: prom-client writes `Nan`); else null.
 */
function parseValue(text: string): number | null {
  switch (text.toLowerCase()) {
    case 'nan': case '+nan': case '-nan': return Number.NaN;
    case 'inf': case '+inf': case 'infinity': case '+infinity': return Number.POSITIVE_INFINITY;
    case '-inf': case '-infinity': return Number.NEGATIVE_INFINITY;
    default: {
      if (!/^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text)) return null;
      return Number(text);
    }
  }
}
