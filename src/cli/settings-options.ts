import { Option, type Command } from 'commander';
import type { RawFlags, SettingsTable } from '../config/parse-settings';

/**
 * Declares every setting of a table as a command option (`--flag <value>`, repeatable
 * ones collect every value) and reads back what was given, keyed by flag name.
 * Defaults are not applied here: parseSettings does that after the environment.
 */
export function addSettingsOptions(command: Command, table: SettingsTable): (command: Command) => RawFlags {
  const attributes = new Map<string, string>();
  for (const setting of Object.values(table)) {
    const option = new Option(`--${setting.flag} <value>`, `${setting.description} [env ${setting.env}; default ${setting.defaultText}]`)
      .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    command.addOption(option);
    attributes.set(option.attributeName(), setting.flag);
  }
  return (parsed: Command) => {
    const flags = new Map<string, readonly string[]>();
    for (const [attribute, value] of Object.entries(parsed.opts<Record<string, string[] | undefined>>())) {
      const flag = attributes.get(attribute);
      if (flag !== undefined && value !== undefined) flags.set(flag, value);
    }
    return flags;
  };
}
