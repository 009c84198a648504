import { Command } from 'commander';
import { processEnvironment } from '../config/process-environment';
import { auditCommand } from './audit-command';
import { inferCommand } from './infer-command';
import { jobsCommand } from './jobs-command';
import { keysCommand } from './keys-command';
import { localTritonCommand } from './local-triton-command';
import { modelsCommand } from './models-command';
import { quotasCommand } from './quotas-command';
import { serveCommand } from './serve-command';
import { tenantsCommand } from './tenants-command';
import { usageCommand } from './usage-command';

/** The `triage` command. Only the composition happens here; each subcommand has its own file. */
export async function runCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = processEnvironment()): Promise<void> {
  const program = new Command('triage')
    .description('triage: a control plane for NVIDIA Triton Inference Server.')
    .showHelpAfterError()
    .addCommand(serveCommand(env))
    .addCommand(localTritonCommand(env))
    .addCommand(inferCommand(env))
    .addCommand(modelsCommand(env))
    .addCommand(jobsCommand(env))
    .addCommand(tenantsCommand(env))
    .addCommand(keysCommand(env))
    .addCommand(quotasCommand(env))
    .addCommand(usageCommand(env))
    .addCommand(auditCommand(env));
  await program.parseAsync([...argv]);
}
