/** Reads one series from Prometheus text output (`GatewayMetrics.render()`). No vitest import. */

/** Value of the series written exactly as `name{label="v",...}`, or undefined when absent. */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}
