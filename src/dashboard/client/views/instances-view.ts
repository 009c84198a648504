import type { GpuFigures, InstanceView } from '../api-types.js';
import { element, replaceChildren } from '../dom.js';
import { formatBytes, formatCount, formatPercent } from '../format.js';
import { meterBar } from '../meter-bar.js';
import { pageHeader } from '../page-header.js';
import { statusPill } from '../status-pill.js';
import type { View, ViewContext, ViewDefinition } from '../view.js';

function figure(label: string, value: string): HTMLElement {
  return element('div', { class: 'figure' }, element('span', { class: 'figure-label', text: label }), element('span', { class: 'figure-value', text: value }));
}

function gpuRow(gpu: GpuFigures): HTMLElement {
  const used = gpu.memory_used_bytes;
  const total = gpu.memory_total_bytes;
  return element('div', { class: 'gpu-row' },
    element('div', { class: 'gpu-name', title: gpu.uuid, text: `GPU ${gpu.index}` }),
    gpu.utilization === null
      ? element('span', { class: 'muted', text: 'utilization –' })
      : meterBar({ ratio: gpu.utilization, label: `${formatPercent(gpu.utilization)} busy`, tone: 'info' }),
    used === null || total === null || total <= 0
      ? element('span', { class: 'muted', text: `memory ${formatBytes(used)}` })
      : meterBar({ ratio: used / total, label: `${formatBytes(used)} of ${formatBytes(total)}` }),
  );
}

function instanceCard(instance: InstanceView): HTMLElement {
  const models = instance.models;
  return element('section', { class: 'card instance-card', 'data-instance': instance.address },
    element('header', { class: 'instance-header' },
      element('h2', { class: 'instance-address', text: instance.address }),
      statusPill(instance.health),
      instance.ready ? element('span', { class: 'tag tag-good', text: 'ready' }) : element('span', { class: 'tag tag-bad', text: 'not ready' }),
    ),
    element('div', { class: 'figures' },
      figure('In flight', formatCount(instance.in_flight)),
      figure('Models loaded', formatCount(models.length)),
      figure('CPU memory', formatBytes(instance.cpu_memory_used_bytes)),
      figure('GPUs', formatCount(instance.gpu.length)),
    ),
    instance.last_error === null || instance.last_error === undefined || instance.health === 'healthy' ? null : element('p', { class: 'instance-error', text: instance.last_error }),
    element('h3', { class: 'subheading', text: 'Loaded models' }),
    models.length === 0
      ? element('p', { class: 'muted', text: 'No model is loaded on this instance.' })
      : element('ul', { class: 'chip-list' }, ...models.map((model) => element('li', { class: 'chip', 'data-model': model.name },
        element('span', { class: 'chip-name', text: model.name }),
        element('span', { class: 'chip-detail', text: model.versions.length === 0 ? '' : `v${model.versions.join(', v')}` })))),
    element('h3', { class: 'subheading', text: 'GPUs' }),
    instance.gpu.length === 0
      ? element('p', { class: 'muted', text: 'This instance reports no GPU (a CPU instance, or its metrics are not scraped).' })
      : element('div', { class: 'gpu-list' }, ...instance.gpu.map(gpuRow)),
  );
}

/** Instances: each Triton instance behind triage, its health, load, loaded models and GPU figures. */
export const instancesView: ViewDefinition = {
  id: 'instances',
  title: 'Instances',
  create(context: ViewContext): View {
    const header = pageHeader('Instances', 'The Triton instances triage routes to.');
    const grid = element('div', { class: 'instance-grid', id: 'instance-list' });
    const root = element('div', { class: 'view view-instances' }, header.root, grid);
    return {
      root,
      async refresh() {
        const { instances } = await context.session.api.get<{ instances: InstanceView[] }>('/v1/instances');
        const healthy = instances.filter((instance) => instance.health === 'healthy').length;
        header.subtitle.textContent = `${instances.length} instance${instances.length === 1 ? '' : 's'}, ${healthy} healthy.`;
        if (instances.length === 0) replaceChildren(grid, element('p', { class: 'card empty-card', text: 'No instance is configured.' }));
        else replaceChildren(grid, ...instances.map(instanceCard));
      },
    };
  },
};
