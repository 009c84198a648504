import { controllerBenchmark } from './controller-bench';
import { jobsBenchmark } from './jobs-bench';
import { localTritonBenchmark } from './local-triton-bench';
import { observationBenchmark } from './observation-bench';
import { proxyBenchmark } from './proxy-bench';
import { registryBenchmark } from './registry-bench';

/** `npm run bench -- <name>`: runs one benchmark (or all) and prints a markdown table. */
const BENCHMARKS: Readonly<Record<string, () => Promise<void>>> = {
  'local-triton': localTritonBenchmark,
  proxy: proxyBenchmark,
  controller: controllerBenchmark,
  registry: registryBenchmark,
  jobs: jobsBenchmark,
  observation: observationBenchmark,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const selected = names.length === 0 ? Object.keys(BENCHMARKS) : names;
  for (const name of selected) {
    const benchmark = BENCHMARKS[name];
    if (benchmark === undefined) throw new Error(`unknown benchmark '${name}'; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    await benchmark();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
