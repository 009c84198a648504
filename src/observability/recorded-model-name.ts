/** What the registry accepts as a model name; anything else a client sends is not recorded as sent. */
const MODEL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** Usage rows and audit entries of calls naming no valid model share this name. */
export const INVALID_MODEL_NAME = '(invalid name)';

/**
 * The model name a record (usage, audit) keeps for a call: the name as sent when it is a
 * valid model name (or empty: the request could not be read), else a placeholder, so a
 * client cannot store data (a payload, a 10 KB string) in Redis through the name.
 */
export function recordedModelName(name: string): string {
  return name === '' || MODEL_NAME.test(name) ? name : INVALID_MODEL_NAME;
}
