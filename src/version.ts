/** triage's version, as ServerMetadata and the CLI report it. Kept equal to package.json's (a test checks). */
export const TRIAGE_VERSION = '0.1.0';
