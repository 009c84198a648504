/** Label value of every tenant past the limit. */
export const OTHER_TENANT = 'other';
/** Label value of a model no instance knows (a typo, or a hostile client naming anything). */
export const UNKNOWN_MODEL = 'unknown';

export interface LabelBoundsOptions {
  /** --metrics-tenant-label-limit: tenants that get a label value of their own (0: no tenant label at all). */
  readonly tenantLimit: number;
  /** True when some instance's repository lists the model (InstancePool.knows). */
  readonly knowsModel: (model: string) => boolean;
}

/**
 * Keeps the label values of the inference metrics few, whatever clients send: every
 * distinct value is a time series in Prometheus. Invariant: at most tenantLimit tenant ids
 * ever get their own value (the first seen, for the life of the process), every later one
 * is `other`, and a call without a known tenant is ''; a model keeps its name only while
 * an instance knows it, else it is `unknown`.
 */
export class LabelBounds {
  private readonly tenants = new Set<string>();

  constructor(private readonly options: LabelBoundsOptions) {}

  /** Whether the metrics carry a tenant label at all. */
  get tenantLabel(): boolean {
    return this.options.tenantLimit > 0;
  }

  tenant(tenantId: string | null): string {
    if (tenantId === null || tenantId === '') return '';
    if (this.tenants.has(tenantId)) return tenantId;
    if (this.tenants.size >= this.options.tenantLimit) return OTHER_TENANT;
    this.tenants.add(tenantId);
    return tenantId;
  }

  model(model: string): string {
    return model !== '' && this.options.knowsModel(model) ? model : UNKNOWN_MODEL;
  }
}
