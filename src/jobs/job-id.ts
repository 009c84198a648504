import { randomText } from '../tenancy/api-key-format';

/** A job id: `job_` and 20 letters or digits (no `:` or `-`, which chunk refs and BullMQ ids use as separators). */
export const JOB_ID_PATTERN = /^job_[A-Za-z0-9]{20}$/;

export function newJobId(): string {
  return `job_${randomText(20)}`;
}

/** True for text that can be a job id; anything else is answered as an unknown job without touching Redis. */
export function isJobId(text: string): boolean {
  return JOB_ID_PATTERN.test(text);
}
