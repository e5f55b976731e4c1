import { defineConfig } from 'vitest/config'

// The full chaos suite (`npm run chaos`): long scenarios against the REAL gateway process, a real
// Mosquitto, the Event Hubs peer, a tmpfs and libfaketime. One file at a time: the scenarios time
// outages and keepalives, and a 2-core machine running two of them at once measures the machine.
// `npm test` runs only the short subset in test/chaos-ci.test.ts.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    testTimeout: 15 * 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
})
