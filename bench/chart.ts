// Renders small standalone SVG charts (no dependencies): latency-percentile curves (x = percentile, y = ms,
// one polyline per series) and side-by-side bar panels. Used by the end-to-end benches to draw bench/results/*.svg.

export interface Series {
  name: string;
  color: string;
  /** [percentile 0..100, latency ms] */
  points: Array<[number, number]>;
}

export function percentileCurve(sortedMs: readonly number[]): Array<[number, number]> {
  const ps = [1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9];
  return ps.map((p) => [p, sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))]!]);
}

export function latencySvg(title: string, series: readonly Series[]): string {
  const W = 640;
  const H = 360;
  const L = 60;
  const R = 20;
  const T = 40;
  const B = 50;
  const maxY = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1]))) * 1.1;
  // Tail-focused log scale on (100 − p): p1 at the left edge, p99.9 at the right.
  const x = (p: number) => L + ((2 - Math.log10(100 - p)) / 3) * (W - L - R);
  const y = (ms: number) => T + (1 - ms / maxY) * (H - T - B);
  const ticks = [1, 50, 90, 99, 99.9];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${title}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
    ...ticks.map(
      (t) =>
        `<text x="${x(t).toFixed(1)}" y="${H - B + 18}" text-anchor="middle">p${t}</text><line x1="${x(t).toFixed(1)}" y1="${T}" x2="${x(t).toFixed(1)}" y2="${H - B}" stroke="#eee"/>`,
    ),
    ...[0, 0.25, 0.5, 0.75, 1].map(
      (f) => `<text x="${L - 6}" y="${(y(maxY * f) + 4).toFixed(1)}" text-anchor="end">${(maxY * f).toFixed(1)}</text>`,
    ),
    `<text x="16" y="${(T + H - B) / 2}" transform="rotate(-90 16 ${(T + H - B) / 2})" text-anchor="middle">latency (ms)</text>`,
    ...series.map(
      (s) =>
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([p, ms]) => `${x(p).toFixed(1)},${y(ms).toFixed(1)}`).join(' ')}"/>`,
    ),
    ...series.map(
      (s, i) =>
        `<rect x="${L + 10}" y="${T + 8 + i * 18}" width="12" height="12" fill="${s.color}"/><text x="${L + 28}" y="${T + 18 + i * 18}">${s.name}</text>`,
    ),
    '</svg>',
  ];
  return parts.join('\n') + '\n';
}

export interface BarPanel {
  title: string;
  unit: string;
  /** One value per row (null: not measured). */
  values: ReadonlyArray<number | null>;
}

/** Side-by-side horizontal bar panels sharing one row label column (one bar per row and panel). */
export function barsSvg(
  title: string,
  rows: readonly string[],
  panels: readonly BarPanel[],
  colors: readonly string[],
): string {
  const labelW = 250;
  const panelW = 210;
  const rowH = 26;
  const T = 56;
  const W = labelW + panels.length * panelW + 10;
  const H = T + rows.length * rowH + 16;
  const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(v >= 10 ? 1 : 2));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${title}</text>`,
    ...rows.map((r, i) => `<text x="${labelW - 8}" y="${T + i * rowH + 17}" text-anchor="end">${r}</text>`),
  ];
  panels.forEach((p, k) => {
    const x0 = labelW + k * panelW;
    const max = Math.max(1e-9, ...p.values.map((v) => v ?? 0));
    const barMax = panelW - 70;
    parts.push(`<text x="${x0 + barMax / 2}" y="${T - 10}" text-anchor="middle">${p.title} (${p.unit})</text>`);
    parts.push(`<line x1="${x0}" y1="${T - 4}" x2="${x0}" y2="${T + rows.length * rowH}" stroke="#333"/>`);
    p.values.forEach((v, i) => {
      const y = T + i * rowH + 4;
      if (v === null) {
        parts.push(`<text x="${x0 + 6}" y="${y + 13}" fill="#888">not measured</text>`);
        return;
      }
      const w = Math.max(1, (Math.max(0, v) / max) * barMax);
      parts.push(
        `<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${colors[i % colors.length]}"/>`,
      );
      parts.push(`<text x="${(x0 + w + 4).toFixed(1)}" y="${y + 13}">${fmt(v)}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
