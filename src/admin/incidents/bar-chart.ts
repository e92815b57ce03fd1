// Incidents per day as an inline SVG bar chart: no script, no external file, readable without CSS
// (role="img" with a label; each bar has a <title> with its day and count). The same numbers are in
// a table beside it for screen readers and copying. Days without incidents are drawn as zero.
import { h } from './page-layout.js';

export interface ChartPoint {
  label: string;
  value: number;
}

const WIDTH = 760;
const HEIGHT = 220;
const LEFT = 44;
const BOTTOM = 26;
const TOP = 10;

/** Round a maximum up to 1, 2 or 5 × 10^n so the axis has even steps. */
export function niceMax(max: number): number {
  if (max <= 1) return 1;
  const exp = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * exp >= max) return m * exp;
  return 10 * exp;
}

/** Whole-number steps up the axis: 1, 2 or 5 × 10^n split into 5, 4 or 5 (or, when that small, 1, 2 or 5) intervals. */
export function axisTicks(max: number): number[] {
  const lead = max / 10 ** Math.floor(Math.log10(max));
  const intervals = max <= 5 ? max : lead === 2 ? 4 : 5;
  return Array.from({ length: intervals + 1 }, (_, i) => (max * i) / intervals);
}

export function renderBarChart(points: readonly ChartPoint[], title: string): string {
  const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const plotW = WIDTH - LEFT - 8;
  const plotH = HEIGHT - TOP - BOTTOM;
  const slot = points.length === 0 ? plotW : plotW / points.length;
  const barW = Math.max(1, slot * 0.8);
  const grid = axisTicks(max)
    .map((tick) => {
      const y = TOP + plotH - (tick / max) * plotH;
      return `<line x1="${LEFT}" x2="${WIDTH - 8}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eaeef2"/><text x="${LEFT - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${h(tick)}</text>`;
    })
    .join('');
  // at most about 12 day labels under the axis, evenly spaced
  const every = Math.max(1, Math.ceil(points.length / 12));
  const bars = points
    .map((p, i) => {
      const x = LEFT + i * slot + (slot - barW) / 2;
      const barH = (p.value / max) * plotH;
      const label = i % every === 0 ? `<text x="${(x + barW / 2).toFixed(1)}" y="${HEIGHT - 8}" text-anchor="middle">${h(p.label.slice(5))}</text>` : '';
      return `<rect class="bar" x="${x.toFixed(1)}" y="${(TOP + plotH - barH).toFixed(1)}" width="${barW.toFixed(1)}" height="${barH.toFixed(1)}"><title>${h(p.label)}: ${h(p.value)}</title></rect>${label}`;
    })
    .join('');
  return `<svg id="per-day-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-label="${h(title)}">${grid}<line x1="${LEFT}" x2="${WIDTH - 8}" y1="${TOP + plotH}" y2="${TOP + plotH}" stroke="#8c959f"/>${bars}</svg>`;
}
