import { actionError } from '../action-error.js';
import type { ModelView } from '../api-types.js';
import { confirmButton } from '../confirm-button.js';
import { cell, dataTable, syncRows } from '../data-table.js';
import { element, replaceChildren } from '../dom.js';
import { formatCount } from '../format.js';
import { pageHeader } from '../page-header.js';
import { statusPill } from '../status-pill.js';
import type { View, ViewContext, ViewDefinition } from '../view.js';

function deploymentText(model: ModelView): string {
  const deployment = model.deployment;
  if (deployment === null) return 'unmanaged';
  if (deployment.replicas === 'all') return 'every instance';
  if (deployment.replicas === 0) return 'undeployed';
  return `${deployment.replicas} replica${deployment.replicas === 1 ? '' : 's'}`;
}

function isDeployed(model: ModelView): boolean {
  return model.deployment !== null && model.deployment.replicas !== 0;
}

function placementList(model: ModelView): HTMLElement {
  if (model.state.length === 0) return element('span', { class: 'muted', text: isDeployed(model) ? 'not placed yet' : 'not loaded by triage' });
  return element('ul', { class: 'placement-list' }, ...model.state.map((placement) => element('li', { class: 'placement', 'data-instance': placement.instance },
    statusPill(placement.state),
    element('span', { class: 'mono', text: placement.instance }),
    placement.versions.length === 0 ? null : element('span', { class: 'muted', text: `v${placement.versions.join(', v')}` }),
    placement.reason === null ? null : element('span', { class: 'placement-reason', title: placement.reason, text: placement.reason }))));
}

/** Models: every registered model, its versions, its deployment and its state on each instance; deploy and undeploy for admin keys. */
export const modelsView: ViewDefinition = {
  id: 'models',
  title: 'Models',
  create(context: ViewContext): View {
    const { session, notify, refreshSoon } = context;
    const admin = session.isAdmin;
    const header = pageHeader('Models', 'The model registry and where each model runs.');
    const table = dataTable(['Model', 'Versions', 'Deployment', 'State per instance', ...(admin ? ['Actions'] : [])], { id: 'models-table', caption: 'Registered models' });
    const root = element('div', { class: 'view view-models' }, header.root, element('section', { class: 'card card-flush' }, table.root));

    const deploy = async (name: string, input: HTMLInputElement, button: HTMLButtonElement): Promise<void> => {
      const replicas = Number(input.value);
      if (!Number.isInteger(replicas) || replicas < 1) {
        notify('Replicas must be a whole number of 1 or more.', 'error');
        return;
      }
      button.disabled = true;
      try {
        await session.api.post(`/v1/models/${encodeURIComponent(name)}/deploy`, { replicas });
        notify(`Deploying ${name} on ${replicas} instance${replicas === 1 ? '' : 's'}.`, 'success');
        refreshSoon();
      } catch (error) {
        notify(actionError(`Deploying ${name}`, error), 'error');
      } finally {
        button.disabled = false;
      }
    };
    const undeploy = async (name: string): Promise<void> => {
      try {
        await session.api.post(`/v1/models/${encodeURIComponent(name)}/undeploy`);
        notify(`Undeploying ${name}.`, 'success');
        refreshSoon();
      } catch (error) {
        notify(actionError(`Undeploying ${name}`, error), 'error');
      }
    };

    const createRow = (model: ModelView): HTMLTableRowElement => {
      const row = element('tr', { 'data-model': model.name });
      if (admin) {
        const deployment = model.deployment;
        const current = deployment !== null && typeof deployment.replicas === 'number' && deployment.replicas > 0 ? deployment.replicas : 1;
        const input = element('input', { type: 'number', min: 1, step: 1, value: current, class: 'input input-narrow', 'aria-label': `Replicas of ${model.name}`, 'data-field': 'replicas' });
        const deployButton = element('button', { type: 'button', class: 'button button-small button-primary', 'data-action': 'deploy', text: 'Deploy' });
        deployButton.addEventListener('click', () => void deploy(model.name, input, deployButton));
        const undeployButton = confirmButton({ label: 'Undeploy', confirmLabel: 'Confirm undeploy', action: 'undeploy', run: () => undeploy(model.name) });
        cell(row, 4).append(element('div', { class: 'actions' }, element('label', { class: 'inline-label' }, 'Replicas', input), deployButton, undeployButton));
      }
      return row;
    };
    const updateRow = (row: HTMLTableRowElement, model: ModelView): void => {
      replaceChildren(cell(row, 0),
        element('div', { class: 'strong', text: model.name }),
        element('div', { class: 'muted small', text: `${model.backend || model.platform || 'unknown backend'}${model.max_batch_size > 0 ? ` · batch ≤ ${model.max_batch_size}` : ''}` }));
      replaceChildren(cell(row, 1), model.versions.length === 0 ? '–' : model.versions.map((version) => version.version).join(', '));
      replaceChildren(cell(row, 2),
        element('span', { class: `tag ${isDeployed(model) ? 'tag-info' : 'tag-neutral'}`, 'data-deployment': '', text: deploymentText(model) }),
        model.unplaced === null ? null : element('div', { class: 'unplaced', text: model.unplaced }));
      replaceChildren(cell(row, 3), placementList(model));
      if (admin) {
        const undeployButton = row.querySelector<HTMLElement>('[data-action="undeploy"]');
        if (undeployButton !== null) undeployButton.hidden = !isDeployed(model);
      }
    };

    return {
      root,
      async refresh() {
        const { models } = await session.api.get<{ models: ModelView[] }>('/v1/models');
        models.sort((a, b) => a.name.localeCompare(b.name));
        const ready = models.reduce((count, model) => count + model.state.filter((placement) => placement.state === 'READY').length, 0);
        header.subtitle.textContent = `${formatCount(models.length)} model${models.length === 1 ? '' : 's'} registered · ${formatCount(ready)} READY placement${ready === 1 ? '' : 's'}.`;
        syncRows(table.body, models, (model) => model.name, createRow, updateRow, 'No model is registered yet. Push one with `triage models push`.');
      },
    };
  },
};
