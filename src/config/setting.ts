import { TriageError } from '../errors/triage-error';

/**
 * One configuration setting: its command-line flag, its TRIAGE_* environment variable,
 * its default, and the rule its value must satisfy. Tables of these drive parsing,
 * --help and the configuration table of the README.
 */
export interface Setting<T> {
  readonly flag: string;
  readonly env: string;
  readonly description: string;
  readonly defaultValue: T;
  /** How the default reads in docs and --help. */
  readonly defaultText: string;
  /** Repeatable flags (and comma-separated env values) give several raw values. */
  readonly repeatable: boolean;
  parse(raw: readonly string[], source: string): T;
}

function invalid(source: string, rule: string, raw: string): TriageError {
  return new TriageError('CONFIG_INVALID', `${source} ${rule}, got '${raw}'`);
}

function single(raw: readonly string[]): string {
  return raw[raw.length - 1] ?? '';
}

export function stringSetting(flag: string, env: string, defaultValue: string, description: string): Setting<string> {
  return {
    flag, env, description, defaultValue, defaultText: defaultValue === '' ? '(empty)' : defaultValue, repeatable: false,
    parse: (raw, source) => {
      const value = single(raw);
      if (value === '') throw invalid(source, 'must not be empty', value);
      return value;
    },
  };
}

export function portSetting(flag: string, env: string, defaultValue: number, description: string, allowDisabled = false): Setting<number> {
  return {
    flag, env, description, defaultValue, defaultText: String(defaultValue), repeatable: false,
    parse: (raw, source) => {
      const value = single(raw);
      const port = Number(value);
      const min = allowDisabled ? -1 : 0;
      if (!/^-?[0-9]+$/.test(value) || port < min || port > 65535) {
        throw invalid(source, `must be a port number from 0 to 65535 (0 = any free port${allowDisabled ? ', -1 = disabled' : ''})`, value);
      }
      return port;
    },
  };
}

export function byteSizeSetting(flag: string, env: string, defaultValue: number, description: string): Setting<number> {
  return {
    flag, env, description, defaultValue, defaultText: `${defaultValue / 1024 / 1024} MiB`, repeatable: false,
    parse: (raw, source) => {
      const value = single(raw);
      const match = /^([0-9]+)\s*(b|k|kib|m|mib|g|gib)?$/i.exec(value.trim());
      const units: Record<string, number> = { b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };
      const bytes = match === null ? NaN : Number(match[1]) * (units[(match[2] ?? 'b').toLowerCase()] ?? NaN);
      if (!Number.isSafeInteger(bytes) || bytes < 1024 || bytes > 2 ** 31 - 1) {
        throw invalid(source, 'must be a size from 1KiB to 2GiB-1, in bytes or with a unit (e.g. 268435456, 256MiB)', value);
      }
      return bytes;
    },
  };
}

export function booleanSetting(flag: string, env: string, defaultValue: boolean, description: string): Setting<boolean> {
  return {
    flag, env, description, defaultValue, defaultText: String(defaultValue), repeatable: false,
    parse: (raw, source) => {
      const value = single(raw).toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(value)) return true;
      if (['false', '0', 'no', 'off'].includes(value)) return false;
      throw invalid(source, 'must be true or false', value);
    },
  };
}

export function choiceSetting<T extends string>(flag: string, env: string, choices: readonly T[], defaultValue: T, description: string): Setting<T> {
  return {
    flag, env, description, defaultValue, defaultText: defaultValue, repeatable: false,
    parse: (raw, source) => {
      const value = single(raw).toLowerCase();
      const choice = choices.find((candidate) => candidate === value);
      if (choice === undefined) throw invalid(source, `must be one of ${choices.join(', ')}`, single(raw));
      return choice;
    },
  };
}

export function listSetting(flag: string, env: string, description: string): Setting<readonly string[]> {
  return {
    flag, env, description, defaultValue: [], defaultText: '(none)', repeatable: true,
    parse: (raw, source) => {
      const values = raw.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
      if (values.length === 0) throw invalid(source, 'must name at least one value', raw.join(','));
      return values;
    },
  };
}

export function durationSetting(flag: string, env: string, defaultValue: number, description: string, minMs = 1, maxMs = 86_400_000): Setting<number> {
  return {
    flag, env, description, defaultValue, defaultText: `${defaultValue} ms`, repeatable: false,
    parse: (raw, source) => {
      const value = single(raw);
      const match = /^([0-9]+)\s*(ms|s)?$/.exec(value.trim());
      const ms = match === null ? NaN : Number(match[1]) * (match[2] === 's' ? 1000 : 1);
      if (!Number.isSafeInteger(ms) || ms < minMs || ms > maxMs) {
        throw invalid(source, `must be a duration from ${minMs} ms to ${maxMs === 86_400_000 ? '24 h' : `${maxMs} ms`}, in milliseconds or with a unit (e.g. 1500, 1500ms, 2s)`, value);
      }
      return ms;
    },
  };
}

export function integerSetting(flag: string, env: string, defaultValue: number, description: string, min: number, max: number): Setting<number> {
  return {
    flag, env, description, defaultValue, defaultText: String(defaultValue), repeatable: false,
    parse: (raw, source) => {
      const value = single(raw).trim();
      const parsed = /^[0-9]+$/.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) throw invalid(source, `must be an integer from ${min} to ${max}`, value);
      return parsed;
    },
  };
}

export function customSetting<T>(flag: string, env: string, defaultValue: T, defaultText: string, description: string, parse: (raw: string, source: string) => T): Setting<T> {
  return { flag, env, description, defaultValue, defaultText, repeatable: false, parse: (raw, source) => parse(single(raw), source) };
}
