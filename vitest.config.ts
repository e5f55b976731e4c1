import { defineConfig } from 'vitest/config'

// Integration tests start real brokers and child processes; give them room but keep the whole
// suite well under ten minutes on a 2-core machine.
export default defineConfig({
  test: {
    include: ['gateway/**/*.test.ts', 'drivers/**/*.test.ts', 'firmware-sim/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
  },
})
