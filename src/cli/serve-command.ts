import { Command } from 'commander';
import { parseSettings } from '../config/parse-settings';
import { SERVE_SETTINGS } from '../config/serve-settings';
import { redactUrl } from '../tenancy/tenancy';
import { createLogger } from '../observability/logger';
import { addSettingsOptions } from './settings-options';
import { stopOnSignals } from './stop-on-signals';

/** `triage serve`: the inference gateway on Triton's ports, in front of a pool of Triton instances. */
export function serveCommand(env: Readonly<Record<string, string | undefined>>): Command {
  const command = new Command('serve')
    .description('Serve Triton\'s gRPC (8001) and REST (8000) protocols in front of a pool of Triton instances (the embedded local-triton when none is configured).');
  const readFlags = addSettingsOptions(command, SERVE_SETTINGS);
  command.action(async (_options: unknown, parsed: Command) => {
    const settings = parseSettings(SERVE_SETTINGS, readFlags(parsed), env);
    const logger = createLogger(settings.logLevel);
    // Loaded here, not at the top: the other commands start without loading the gateway.
    const { startTriage } = await import('../main');
    const running = await startTriage(settings, logger);
    const instances = running.pool.list().map((instance) => `${instance.address} (${instance.health}${instance.readyModels.size > 0 ? `: ${[...instance.readyModels.keys()].join(', ')}` : ''})`);
    const grpc = running.grpcPort === null ? 'gRPC off (no proxy role)' : `gRPC on ${settings.listenAddress}:${running.grpcPort}`;
    process.stderr.write(`triage ready: ${grpc}, HTTP on ${settings.listenAddress}:${running.httpPort}\n`
      + `roles: ${[...settings.roles].join(', ')}\n`
      + `instances: ${running.embedded === null ? '' : 'embedded local-triton '}${instances.join(', ')}\n`
      + `redis: ${running.embeddedRedis === null ? redactUrl(settings.redisUrl) : `embedded redis-server on port ${running.embeddedRedis.port}, data in ${settings.dataDir}`}\n`);
    if (running.generatedAdminKey !== null) {
      // Shown once, on the terminal only (never in the JSON log): the bootstrap admin key of this run.
      process.stderr.write(`admin key (TRIAGE_ADMIN_KEY was not set; generated for this run only): ${running.generatedAdminKey}\n`
        + `  try: export TRIAGE_API_KEY=${running.generatedAdminKey}\n`);
    }
    await stopOnSignals(logger, () => running.stop());
  });
  return command;
}
