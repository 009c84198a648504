import { element } from './dom.js';

type UPlot = InstanceType<typeof import('uplot')>;
type UPlotOptions = import('uplot').Options;

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  /** Fill under the line (the main series only). */
  readonly fill?: boolean;
  readonly dash?: readonly number[];
}

export interface TimeChartOptions {
  readonly series: readonly ChartSeries[];
  /** How a value reads on the axis and in the legend. */
  readonly format: (value: number) => string;
  readonly height: number;
}

/** Indices of the series' values whose neighbours are both gaps. */
function isolatedPoints(plot: UPlot, seriesIndex: number): number[] {
  const values = plot.data[seriesIndex] ?? [];
  const isolated: number[] = [];
  for (let index = 0; index < values.length; index += 1) {
    if (values[index] === null || values[index] === undefined) continue;
    if ((values[index - 1] ?? null) === null && (values[index + 1] ?? null) === null) isolated.push(index);
  }
  return isolated;
}

/**
 * A uPlot time-series chart sized to its container: built on the first data (uPlot
 * needs a width), resized with the container, fed in place on every refresh.
 * Times are epoch seconds; a null value is a gap.
 */
export class TimeChart {
  readonly root: HTMLDivElement;
  private plot: UPlot | null = null;
  private readonly resize: ResizeObserver;

  constructor(private readonly options: TimeChartOptions) {
    this.root = element('div', { class: 'chart' });
    this.resize = new ResizeObserver(() => {
      if (this.plot !== null && this.width() > 0) this.plot.setSize({ width: this.width(), height: this.options.height });
    });
    this.resize.observe(this.root);
  }

  setData(times: readonly number[], values: readonly (readonly (number | null)[])[]): void {
    const data = [[...times], ...values.map((series) => [...series])] as unknown as import('uplot').AlignedData;
    if (this.plot === null) {
      this.plot = new uPlot(this.plotOptions(), data, this.root);
    } else {
      this.plot.setData(data);
    }
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  private width(): number {
    return Math.max(0, Math.floor(this.root.clientWidth));
  }

  private plotOptions(): UPlotOptions {
    const format = this.options.format;
    return {
      width: this.width() || 600,
      height: this.options.height,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: true }, y: { range: (_plot, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
      axes: [
        { stroke: '#64748b', grid: { stroke: '#eef2f6', width: 1 }, ticks: { stroke: '#e2e8f0', width: 1 } },
        { stroke: '#64748b', size: 64, grid: { stroke: '#eef2f6', width: 1 }, ticks: { stroke: '#e2e8f0', width: 1 }, values: (_plot, splits) => splits.map((split) => format(split)) },
      ],
      series: [
        { label: 'Time' },
        ...this.options.series.map((series) => ({
          label: series.label,
          stroke: series.color,
          width: 2,
          ...(series.fill === true ? { fill: `${series.color}1f` } : {}),
          ...(series.dash === undefined ? {} : { dash: [...series.dash] }),
          // Lines only; a value with no neighbour (a lone busy step) would draw nothing, so it gets a dot.
          points: { show: true, size: 5, filter: isolatedPoints },
          value: (_plot: UPlot, value: number | null) => (value === null ? '–' : format(value)),
        })),
      ],
    };
  }
}
