import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom.js';

export interface TrendSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Bars for counts, lines for durations and rates. */
  style?: 'line' | 'bars';
}

const DAY = 86_400;

/** At most about `max` labels: every bucket on a short range, every n-th on a long one. */
function labelledTimes(times: number[], max: number): number[] {
  const every = Math.max(1, Math.ceil(times.length / max));
  return times.filter((_, i) => i % every === 0);
}

/**
 * A small time-series chart (uPlot: about 50 kB minified, canvas, fast with many points).
 * `times` are bucket starts in seconds (UTC); the chart takes its container's width. The
 * legend is the caption, so the chart itself stays small on a laptop screen.
 */
export function trendChart(
  title: string,
  times: number[],
  series: TrendSeries[],
  formatValue: (value: number) => string,
): HTMLElement {
  const holder = h('div', { class: 'chart' });
  const caption = h(
    'figcaption',
    {},
    title,
    ...(series.length > 1
      ? series.map((s) =>
          h('span', { class: 'key' }, h('i', { style: `background:${s.color}` }), s.label),
        )
      : []),
  );
  const figure = h('figure', { class: 'trend' }, caption, holder);
  // Drawn once the figure is in the document and has a width.
  requestAnimationFrame(() => {
    const width = Math.max(240, holder.clientWidth);
    const large = document.documentElement.classList.contains('wall');
    const font = large ? '16px sans-serif' : '11px sans-serif';
    const highest = Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
    const top = highest > 0 ? highest * 1.15 : 1;
    const step = times.length > 1 ? times[1]! - times[0]! : 7 * DAY;
    const bars = uPlot.paths.bars?.({ size: [0.6, 60] });
    new uPlot(
      {
        width,
        height: large ? 230 : 160,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          // Counts, durations and rates are never negative: every chart starts at zero, and
          // the top is set from the data (uPlot's own padding misjudges a single point).
          y: { auto: false, range: [0, top] },
          // Half a bucket either side, so the first and last bars are whole.
          x: {
            time: true,
            range: () => [(times[0] ?? 0) - step / 2, (times.at(-1) ?? 0) + step / 2],
          },
        },
        axes: [
          {
            size: large ? 36 : 26,
            font,
            splits: () => labelledTimes(times, width < 400 ? 5 : 9),
            // Bucket starts, UTC: 03-02 for a week, 2026-03 for a month.
            values: (_u, splits) =>
              splits.map((s) => {
                const iso = new Date(s * 1000).toISOString();
                return step >= 28 * DAY ? iso.slice(0, 7) : iso.slice(5, 10);
              }),
          },
          {
            size: large ? 70 : 55,
            font,
            values: (_u, splits) => splits.map((v) => formatValue(v)),
          },
        ],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            fill: s.style === 'bars' ? `${s.color}99` : undefined,
            points: { show: s.style !== 'bars', size: 5 },
            spanGaps: false,
            ...(s.style === 'bars' && bars ? { paths: bars } : {}),
          })),
        ],
      },
      [times, ...series.map((s) => s.values)] as uPlot.AlignedData,
      holder,
    );
  });
  return figure;
}
