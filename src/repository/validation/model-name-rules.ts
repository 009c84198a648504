const MAX_NAME_LENGTH = 128;
const NAME_CHARACTERS = /^[A-Za-z0-9_.-]+$/;

/**
 * Why `name` cannot name a model, or null when it can: 1 to 128 characters of letters,
 * digits, '_', '.', '-', not starting with '.' or '-' (so it is never a hidden folder, a
 * relative path or a command-line flag), and not '.' or '..'.
 */
export function modelNameProblem(name: string): string | null {
  if (name.length === 0) return 'a model name cannot be empty';
  if (name.length > MAX_NAME_LENGTH) return `a model name has at most ${MAX_NAME_LENGTH} characters (this one has ${name.length})`;
  if (!NAME_CHARACTERS.test(name)) return 'a model name uses only letters, digits, "_", "." and "-"';
  if (name.startsWith('.') || name.startsWith('-')) return 'a model name cannot start with "." or "-"';
  return null;
}
