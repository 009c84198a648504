import { Command } from 'commander';
import { LOCAL_TRITON_SETTINGS } from '../config/local-triton-settings';
import { parseSettings } from '../config/parse-settings';
import { startLocalTriton } from '../local-triton/local-triton-server';
import { createLogger } from '../observability/logger';
import { addSettingsOptions } from './settings-options';
import { stopOnSignals } from './stop-on-signals';

/** `triage local-triton`: the embedded Triton-compatible server, with tritonserver's flag names. */
export function localTritonCommand(env: Readonly<Record<string, string | undefined>>): Command {
  const command = new Command('local-triton')
    .description('Serve a Triton model repository over Triton\'s gRPC protocol, on CPU (ONNX models via onnxruntime, identity models).');
  const readFlags = addSettingsOptions(command, LOCAL_TRITON_SETTINGS);
  command.action(async (_options: unknown, parsed: Command) => {
    const settings = parseSettings(LOCAL_TRITON_SETTINGS, readFlags(parsed), env);
    const logger = createLogger(settings.logLevel);
    const running = await startLocalTriton({ ...settings, logger });
    const ready = (await running.models.index(false)).map((entry) => `${entry.name}${entry.version === '' ? '' : `:${entry.version}`} ${entry.state || 'not loaded'}`);
    process.stderr.write(`local-triton ready: gRPC on ${settings.grpcAddress}:${running.grpcPort}`
      + `${running.metricsPort === null ? '' : `, metrics on http://${settings.grpcAddress}:${running.metricsPort}/metrics`}\n`
      + `models: ${ready.join(', ') || 'none'}\n`);
    await stopOnSignals(logger, () => running.stop());
  });
  return command;
}
