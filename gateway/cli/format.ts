/** Plain-text formatting for the operator commands: aligned tables, sizes, ages, rates. */

/** Left-aligned columns separated by two spaces, indented by two; `num` columns right-aligned. */
export function table(headers: string[], rows: string[][], opts: { num?: number[] } = {}): string {
  const num = new Set(opts.num ?? [])
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string =>
    '  ' +
    cells
      .map((c, i) => {
        const last = i === cells.length - 1
        if (num.has(i)) return c.padStart(widths[i]!)
        return last ? c : c.padEnd(widths[i]!)
      })
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map(line)].join('\n') + '\n'
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`
}

/** `0.4 s`, `12 s`, `3 min 4 s`, `2 h 5 min`, `3 d 4 h`. */
export function fmtAge(ms: number): string {
  if (ms < 1000) return `${(ms / 1000).toFixed(1)} s`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60} s`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h} h ${m % 60} min`
  return `${Math.floor(h / 24)} d ${h % 24} h`
}

export function fmtRate(perSec: number): string {
  if (perSec >= 100) return fmtInt(perSec)
  if (perSec >= 10) return perSec.toFixed(1)
  return String(Number(perSec.toFixed(2)))
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${fmtInt(n)} ${n === 1 ? word : many}`
}
