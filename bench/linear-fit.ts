/** Small statistics for the bench: least squares (the soak's flatness verdict, the report), quantiles and medians. Pure. */

export interface LineFit {
  /** dy/dx, in the units of the input. */
  slope: number
  intercept: number
  /** Points used. */
  n: number
}

/**
 * Fits y = slope·x + intercept to the points. Fewer than two points, or all at one x, give a
 * slope of 0 (nothing to fit), never NaN.
 */
export function fitLine(points: ReadonlyArray<readonly [number, number]>): LineFit {
  const n = points.length
  if (n === 0) return { slope: 0, intercept: 0, n }
  let sx = 0
  let sy = 0
  for (const [x, y] of points) {
    sx += x
    sy += y
  }
  const mx = sx / n
  const my = sy / n
  let sxx = 0
  let sxy = 0
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2
    sxy += (x - mx) * (y - my)
  }
  if (n < 2 || sxx === 0) return { slope: 0, intercept: my, n }
  const slope = sxy / sxx
  return { slope, intercept: my - slope * mx, n }
}

/** Value at quantile q (0..1) of already sorted numbers, nearest-rank; NaN when empty. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}

/**
 * The median of `values`, unsorted (the mean of the middle two for an even count, unlike
 * quantileSorted's nearest rank: the Event Hubs bench takes it over 4 yardstick runs).
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
