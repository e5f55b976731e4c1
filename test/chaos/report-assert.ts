/**
 * vitest side of a scenario report: publish it (console + test-artifacts/chaos/<tag>/), then fail
 * the test with every failed check listed, or skip it with the scenario's reason.
 */
import type { TestContext } from 'vitest'
import { failures, publishReport, type ScenarioReport } from '../support/chaos-verdict.js'
import { REPO_ROOT } from './scenarios/common.js'

export function assertReport(report: ScenarioReport, tag: 'full' | 'ci', ctx: TestContext): void {
  publishReport(report, tag, REPO_ROOT)
  if (report.skipped) return ctx.skip(report.skipped)
  const failed = failures(report).map((c) => `${c.name}: ${c.detail}`)
  // ctx.expect: the scenarios of the CI subset run concurrently.
  ctx.expect(failed, `${report.scenario}: failed checks`).toEqual([])
}

/**
 * At most `n` scenarios at a time. The CI subset declares every scenario as a concurrent test and
 * runs them through two lanes: a 2-core machine stays responsive enough for the timing checks
 * (keepalive detection), and the subset fits its time budget.
 */
export function lanes(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0
  const waiting: Array<() => void> = []
  return async (fn) => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve))
    active++
    try {
      return await fn()
    } finally {
      active--
      waiting.shift()?.()
    }
  }
}
