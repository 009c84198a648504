import { TriageError } from '../errors/triage-error';

/** One reason a row cannot be run, as the 400 of POST /v1/jobs lists it. */
export interface RowProblem {
  /** The row's line number in JSONL (blank lines counted), its 1-based position in `rows` in JSON. */
  readonly row: number;
  /** The row's custom_id when it has a readable one. */
  readonly custom_id: string | null;
  /** Where in the row: custom_id, inputs.NAME, inputs.NAME.shape, ... ('row' for the whole row). */
  readonly field: string;
  readonly rule: string;
}

/** How many problems the answer lists; every problem is counted. */
export const LISTED_PROBLEMS = 100;
/** How many of those the error message itself spells out. */
const PROBLEMS_IN_MESSAGE = 3;

/** Keeps the first problems of a job's rows and counts all of them (memory bounded whatever the body). */
export class RowProblems {
  private readonly listed: RowProblem[] = [];
  private rows = 0;
  private total = 0;

  /** Records the problems of one row. */
  add(problems: readonly RowProblem[]): void {
    if (problems.length === 0) return;
    this.rows += 1;
    this.total += problems.length;
    for (const problem of problems) if (this.listed.length < LISTED_PROBLEMS) this.listed.push(problem);
  }

  get empty(): boolean {
    return this.total === 0;
  }

  /** INVALID_ARGUMENT with the first problems in `errors` and their counts; the message names the first few. */
  error(totalRows: number): TriageError {
    const first = this.listed.slice(0, PROBLEMS_IN_MESSAGE).map(describeProblem).join('; ');
    const message = `${this.rows} of ${totalRows} row${totalRows === 1 ? '' : 's'} cannot be run (${this.total} problem${this.total === 1 ? '' : 's'}); nothing was created. `
      + `First: ${first}${this.total > PROBLEMS_IN_MESSAGE ? '; ...' : ''} (the answer's "errors" lists the first ${LISTED_PROBLEMS})`;
    return new TriageError('INVALID_ARGUMENT', message, { details: { errors: this.listed, invalid_rows: this.rows, error_count: this.total } });
  }
}

export function describeProblem(problem: RowProblem): string {
  return `row ${problem.row}${problem.custom_id === null ? '' : ` (custom_id ${JSON.stringify(problem.custom_id)})`} ${problem.field}: ${problem.rule}`;
}
