import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing running; `integration` shares one Temporal dev
// server and one Postgres (started by the global setup) across every test file.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/lib/**/*.test.ts', 'test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/workflows/**/*.test.ts', 'test/api/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/runtime/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/global.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
