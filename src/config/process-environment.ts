/** The process environment, read here and only here (config/ owns every TRIAGE_* variable). */
export function processEnvironment(): Readonly<Record<string, string | undefined>> {
  return process.env;
}
