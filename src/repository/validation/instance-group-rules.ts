import type { ModelConfigObject } from '../../local-triton/models/model-config-types';
import type { ResolvedBackend } from './backend-rules';
import type { ProblemReport } from './validation-problem';

/**
 * Triton's checks of instance groups that do not depend on the machine: KIND_CPU and
 * KIND_MODEL groups list no GPUs, GPU ids are not negative, TensorRT optimization profiles
 * only on TensorRT models. (Whether the listed GPUs exist is for the server that loads it.)
 */
export function checkInstanceGroups(config: ModelConfigObject, resolved: ResolvedBackend, report: ProblemReport): void {
  (config.instance_group ?? []).forEach((group, index) => {
    const at = `instance_group[${index}]`;
    const gpus = group.gpus ?? [];
    const kind = group.kind ?? 'KIND_AUTO';
    if ((kind === 'KIND_CPU' || kind === 'KIND_MODEL') && gpus.length > 0) {
      report(`${at}.gpus`, 'instance-group', `${at} has kind ${kind} but lists GPUs [${gpus.join(', ')}]; only KIND_GPU and KIND_AUTO groups take gpus`);
    }
    if (gpus.some((gpu) => gpu < 0)) report(`${at}.gpus`, 'instance-group', `${at} lists a negative GPU id: [${gpus.join(', ')}]`);
    const profiles = (group['profile'] as string[] | undefined) ?? [];
    if (profiles.length > 0 && resolved.platform !== 'tensorrt_plan') {
      report(`${at}.profile`, 'instance-group', `${at} selects TensorRT optimization profiles, which only TensorRT models have`);
    }
  });
}
