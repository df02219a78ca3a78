import { defineConfig } from 'vitest/config'

export default defineConfig({
  // `switchyard-channels` imports (examples, as users write them) resolve to the sources, as in tsconfig.json.
  resolve: { tsconfigPaths: true },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/redis-global-setup.ts'],
    // Two cores: one fork per core keeps timing-sensitive integration tests honest.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // Library logs go nowhere in tests unless asked for; tests that check logging pass their own logger.
    env: { SWITCHYARD_LOG_LEVEL: process.env.SWITCHYARD_LOG_LEVEL ?? 'silent' },
  },
})
