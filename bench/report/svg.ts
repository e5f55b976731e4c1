/**
 * Two tiny chart kinds as standalone SVG text, no dependencies: grouped bars and lines. Pure
 * functions; every label is XML-escaped. Axes start at 0 and end at a "nice" round maximum.
 */

export interface BarChart {
  title: string
  /** Groups along the x axis. */
  categories: string[]
  /** One bar per category in each series; NaN draws no bar and labels it "n/a". */
  series: Array<{ name: string; values: number[] }>
  /** Unit shown on the y axis, e.g. "events/s". */
  unit: string
  width?: number
  height?: number
}

export interface LineChart {
  title: string
  series: Array<{ name: string; points: Array<[number, number]> }>
  xLabel: string
  yLabel: string
  width?: number
  height?: number
}

const COLORS = ['#2b6cb0', '#dd6b20', '#38a169', '#805ad5', '#e53e3e']
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'
const M = { top: 40, right: 20, bottom: 60, left: 70 }

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** A round axis maximum >= max (1, 2, 2.5 or 5 × 10^k) and its tick step. */
export function niceScale(max: number, ticks = 5): { max: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { max: 1, step: 0.2 }
  const raw = max / ticks
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s * ticks >= max)!
  return { max: step * ticks, step }
}

/** Compact number: 12345 → "12.3k", 0.25 → "0.25". */
export function short(n: number): string {
  if (!Number.isFinite(n)) return 'n/a'
  const a = Math.abs(n)
  if (a >= 1e6) return `${+(n / 1e6).toFixed(2)}M`
  if (a >= 1e4) return `${+(n / 1e3).toFixed(1)}k`
  if (a >= 100) return String(Math.round(n))
  return String(+n.toFixed(2))
}

function frame(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n')
}

function yAxis(plotW: number, plotH: number, scale: { max: number; step: number }, label: string): string[] {
  const out: string[] = []
  for (let v = 0; v <= scale.max + scale.step / 2; v += scale.step) {
    const y = M.top + plotH - (v / scale.max) * plotH
    out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${y}" y2="${y}" stroke="#e2e8f0"/>`)
    out.push(`<text x="${M.left - 6}" y="${y + 4}" text-anchor="end" fill="#4a5568">${esc(short(v))}</text>`)
  }
  const cy = M.top + plotH / 2
  out.push(`<text x="16" y="${cy}" transform="rotate(-90 16 ${cy})" text-anchor="middle" fill="#4a5568">${esc(label)}</text>`)
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="#4a5568"/>`)
  out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#4a5568"/>`)
  return out
}

function legend(names: string[], width: number, y: number): string[] {
  const out: string[] = []
  const itemW = Math.min(220, (width - M.left - M.right) / Math.max(1, names.length))
  names.forEach((name, i) => {
    const x = M.left + i * itemW
    out.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`)
    out.push(`<text x="${x + 18}" y="${y}" fill="#1a202c">${esc(name)}</text>`)
  })
  return out
}

export function barChartSvg(c: BarChart): string {
  const width = c.width ?? 720
  const height = c.height ?? 360
  const plotW = width - M.left - M.right
  const plotH = height - M.top - M.bottom
  const finite = c.series.flatMap((s) => s.values).filter(Number.isFinite)
  const scale = niceScale(Math.max(0, ...finite))
  const body = yAxis(plotW, plotH, scale, c.unit)
  const groupW = plotW / Math.max(1, c.categories.length)
  const barW = (groupW * 0.75) / Math.max(1, c.series.length)
  c.categories.forEach((cat, ci) => {
    const gx = M.left + ci * groupW + groupW * 0.125
    c.series.forEach((s, si) => {
      const v = s.values[ci] ?? Number.NaN
      const x = gx + si * barW
      const h = Number.isFinite(v) ? (Math.max(0, v) / scale.max) * plotH : 0
      const y = M.top + plotH - h
      if (h > 0) body.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${s.name} / ${cat}: ${short(v)} ${c.unit}`)}</title></rect>`)
      body.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#1a202c">${esc(short(v))}</text>`)
    })
    body.push(`<text x="${(M.left + ci * groupW + groupW / 2).toFixed(1)}" y="${M.top + plotH + 16}" text-anchor="middle" fill="#1a202c">${esc(cat)}</text>`)
  })
  body.push(...legend(c.series.map((s) => s.name), width, height - 14))
  return frame(width, height, c.title, body)
}

export function lineChartSvg(c: LineChart): string {
  const width = c.width ?? 720
  const height = c.height ?? 360
  const plotW = width - M.left - M.right
  const plotH = height - M.top - M.bottom
  const pts = c.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  const ys = niceScale(Math.max(0, ...pts.map(([, y]) => y)))
  const xs = niceScale(Math.max(0, ...pts.map(([x]) => x)))
  const body = yAxis(plotW, plotH, ys, c.yLabel)
  for (let v = 0; v <= xs.max + xs.step / 2; v += xs.step) {
    const x = M.left + (v / xs.max) * plotW
    body.push(`<line x1="${x}" x2="${x}" y1="${M.top + plotH}" y2="${M.top + plotH + 4}" stroke="#4a5568"/>`)
    body.push(`<text x="${x}" y="${M.top + plotH + 16}" text-anchor="middle" fill="#4a5568">${esc(short(v))}</text>`)
  }
  body.push(`<text x="${M.left + plotW / 2}" y="${M.top + plotH + 34}" text-anchor="middle" fill="#4a5568">${esc(c.xLabel)}</text>`)
  c.series.forEach((s, i) => {
    const coords = s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y]) => `${(M.left + (x / xs.max) * plotW).toFixed(1)},${(M.top + plotH - (y / ys.max) * plotH).toFixed(1)}`)
    if (coords.length) body.push(`<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${coords.join(' ')}"><title>${esc(s.name)}</title></polyline>`)
  })
  body.push(...legend(c.series.map((s) => s.name), width, height - 8))
  return frame(width, height, c.title, body)
}
