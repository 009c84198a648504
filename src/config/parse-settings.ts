import type { Setting } from './setting';

export type SettingsTable = Readonly<Record<string, Setting<unknown>>>;

export type SettingsValues<Table extends SettingsTable> = {
  readonly [Key in keyof Table]: Table[Key] extends Setting<infer T> ? T : never;
};

/** Raw values from the command line: flag name (without dashes) -> every value given. */
export type RawFlags = ReadonlyMap<string, readonly string[]>;

/**
 * Resolves every setting of a table: the flag when given, else the environment
 * variable, else the default. Values are checked against their rule; the first broken
 * one throws a CONFIG_INVALID error naming the flag or variable. The result is frozen.
 */
export function parseSettings<Table extends SettingsTable>(
  table: Table,
  flags: RawFlags,
  env: Readonly<Record<string, string | undefined>>,
): SettingsValues<Table> {
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(table)) {
    const fromFlag = flags.get(setting.flag);
    const fromEnv = env[setting.env];
    if (fromFlag !== undefined && fromFlag.length > 0) {
      values[key] = setting.parse(fromFlag, `--${setting.flag}`);
    } else if (fromEnv !== undefined && fromEnv !== '') {
      values[key] = setting.parse([fromEnv], setting.env);
    } else {
      values[key] = setting.defaultValue;
    }
  }
  return Object.freeze(values) as SettingsValues<Table>;
}
