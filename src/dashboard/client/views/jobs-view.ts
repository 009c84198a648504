import { actionError } from '../action-error.js';
import type { Job, JobStatus } from '../api-types.js';
import { confirmButton } from '../confirm-button.js';
import { cell, dataTable, syncRows } from '../data-table.js';
import { element, replaceChildren } from '../dom.js';
import { formatAge, formatCount, formatRate, formatSeconds, formatTime } from '../format.js';
import { meterBar, updateMeterBar, type MeterOptions } from '../meter-bar.js';
import { pageHeader } from '../page-header.js';
import { statusPill } from '../status-pill.js';
import type { View, ViewContext, ViewDefinition } from '../view.js';

const LIST_LIMIT = 50;
const ENDED: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled', 'expired']);

function progressOf(job: Job): MeterOptions {
  const total = job.progress?.rows_total ?? job.request_counts.total;
  const done = job.progress?.rows_done ?? job.request_counts.completed + job.request_counts.failed;
  const ratio = total === 0 ? (ENDED.has(job.status) ? 1 : 0) : done / total;
  const parts = [`${formatCount(done)} / ${formatCount(total)} rows`];
  const rate = job.progress?.rows_per_second ?? null;
  if (!ENDED.has(job.status) && rate !== null && rate > 0) parts.push(`${formatRate(rate)} rows/s`);
  const eta = job.progress?.eta_seconds ?? null;
  if (!ENDED.has(job.status) && eta !== null && eta > 0) parts.push(`ETA ${formatSeconds(eta)}`);
  const tone = job.status === 'completed' ? 'good' : job.status === 'failed' ? 'bad' : job.status === 'cancelling' || job.status === 'cancelled' || job.status === 'expired' ? 'warn' : 'info';
  return { ratio, label: parts.join(' · '), tone };
}

/** Jobs: the newest batch jobs with live progress bars; cancel for admin keys (every job) and jobs keys (their tenant's). */
export const jobsView: ViewDefinition = {
  id: 'jobs',
  title: 'Jobs',
  create(context: ViewContext): View {
    const { session, notify, refreshSoon } = context;
    const canCancel = session.canCancelJobs;
    const header = pageHeader('Jobs', 'Batch inference jobs, newest first.');
    const table = dataTable(['Job', 'Tenant', 'Model', 'Status', 'Progress', 'Created', ...(canCancel ? ['Actions'] : [])], { id: 'jobs-table', caption: 'Batch jobs' });
    const root = element('div', { class: 'view view-jobs' }, header.root, element('section', { class: 'card card-flush' }, table.root));

    const cancel = async (id: string): Promise<void> => {
      try {
        await session.api.post(`/v1/jobs/${encodeURIComponent(id)}/cancel`);
        notify(`Cancelling job ${id}.`, 'success');
        refreshSoon();
      } catch (error) {
        notify(actionError(`Cancelling job ${id}`, error), 'error');
      }
    };
    const createRow = (job: Job): HTMLTableRowElement => {
      const row = element('tr', { 'data-job': job.id });
      cell(row, 4).append(meterBar(progressOf(job)));
      if (canCancel) cell(row, 6).append(confirmButton({ label: 'Cancel', confirmLabel: 'Confirm cancel', action: 'cancel', run: () => cancel(job.id) }));
      return row;
    };
    const updateRow = (row: HTMLTableRowElement, job: Job): void => {
      row.dataset['status'] = job.status;
      replaceChildren(cell(row, 0), element('span', { class: 'mono', text: job.id }));
      replaceChildren(cell(row, 1), element('span', { class: 'mono small', text: job.tenant_id }));
      replaceChildren(cell(row, 2), job.model);
      replaceChildren(cell(row, 3), statusPill(job.status),
        job.request_counts.failed > 0 ? element('div', { class: 'small bad-text', text: `${formatCount(job.request_counts.failed)} rows failed` }) : null,
        job.error === null ? null : element('div', { class: 'small bad-text', title: job.error, text: job.error }));
      const bar = cell(row, 4).firstElementChild;
      if (bar instanceof HTMLElement) updateMeterBar(bar, progressOf(job));
      const created = cell(row, 5);
      created.title = formatTime(job.created_at);
      created.textContent = formatAge(job.created_at);
      if (canCancel) {
        const button = row.querySelector<HTMLElement>('[data-action="cancel"]');
        if (button !== null) button.hidden = ENDED.has(job.status) || job.status === 'cancelling';
      }
    };
    return {
      root,
      async refresh() {
        const { jobs } = await session.api.get<{ jobs: Job[] }>(`/v1/jobs?limit=${LIST_LIMIT}`);
        const running = jobs.filter((job) => !ENDED.has(job.status)).length;
        header.subtitle.textContent = `${jobs.length === LIST_LIMIT ? `The ${LIST_LIMIT} newest jobs` : `${formatCount(jobs.length)} job${jobs.length === 1 ? '' : 's'}`} · ${formatCount(running)} running or queued.`;
        syncRows(table.body, jobs, (job) => job.id, createRow, updateRow, 'No batch job yet. Submit one with `triage jobs submit`.');
      },
    };
  },
};
