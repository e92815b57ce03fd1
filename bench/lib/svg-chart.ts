// bench/results/throughput.svg: horizontal bars of req/s per scenario, coloured by what served the
// load (origin, dlp-proxy, squid), written by hand so the bench needs no chart library. Scenarios
// that did not run keep their line with the reason, so a missing bar is never silent. Large
// single transfers and slow-origin downloads are left out (they are not request rates).
import type { RunResults } from './report.js';

const COLOURS: Record<string, string> = { direct: '#9e9e9e', 'dlp-proxy': '#1f6feb', squid: '#e36209', 'node-proxy': '#8fbc8f' };

const LEGEND: Record<string, string> = { direct: 'origin (ceiling)', 'node-proxy': 'bare node:http' };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderThroughputSvg(results: RunResults): string {
  // one transfer is not a rate: the large transfers have their own table in RESULTS.md
  const rows = results.scenarios.filter((r) => !r.transfer && !r.slowDownload);
  const labelWidth = 330;
  const barWidth = 420;
  const rowHeight = 26;
  const top = 54;
  const width = labelWidth + barWidth + 130;
  const height = top + rows.length * rowHeight + 40;
  const max = Math.max(1, ...rows.map((r) => (r.status === 'ok' && r.load ? r.load.reqPerSec : 0)));
  const m = results.machine;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">Throughput by scenario (requests per second, higher is better)</text>`,
    `<text x="12" y="40" fill="#555">${escape(`${m.date.slice(0, 10)} · ${m.cores} cores · Node ${m.node} · kernel ${m.kernel} · squid ${m.squid}`)}</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${escape(r.title)}</text>`);
    if (r.status === 'ok' && r.load) {
      const w = Math.max(1, (r.load.reqPerSec / max) * barWidth);
      parts.push(`<rect x="${labelWidth}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 8}" fill="${COLOURS[r.target] ?? '#444'}"/>`);
      parts.push(`<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 16}">${Math.round(r.load.reqPerSec).toLocaleString('en-US')}</text>`);
    } else {
      const reason = `${r.status === 'failed' ? 'failed' : 'not available'}: ${r.reason ?? ''}`;
      parts.push(`<text x="${labelWidth + 6}" y="${y + 16}" fill="#b00020">${escape(reason.length > 80 ? `${reason.slice(0, 77)}...` : reason)}</text>`);
    }
  });
  const legendY = top + rows.length * rowHeight + 20;
  let x = labelWidth;
  for (const [kind, colour] of Object.entries(COLOURS)) {
    parts.push(`<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${colour}"/>`, `<text x="${x + 16}" y="${legendY}">${LEGEND[kind] ?? kind}</text>`);
    x += 120;
  }
  parts.push('</svg>', '');
  return parts.join('\n');
}
