import type { ViewDefinition } from './view.js';
import { auditView } from './views/audit-view.js';
import { instancesView } from './views/instances-view.js';
import { jobsView } from './views/jobs-view.js';
import { modelsView } from './views/models-view.js';
import { overviewView } from './views/overview-view.js';
import { tenantsView } from './views/tenants-view.js';

/** The tabs, in order; the first is the default. */
export const VIEWS: readonly ViewDefinition[] = [overviewView, instancesView, modelsView, tenantsView, jobsView, auditView];
