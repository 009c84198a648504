/** `--label key=value` arguments (repeatable) as a label map; a value may itself contain '='. */
export function parseLabels(labels: readonly string[]): Record<string, string> {
  return Object.fromEntries(labels.map((label) => {
    const separator = label.indexOf('=');
    if (separator <= 0) throw new Error(`--label must be key=value, got '${label}'`);
    return [label.slice(0, separator), label.slice(separator + 1)];
  }));
}
