import { defineConfig } from 'vitest/config';

// `npm run test:package`: the packed tarball installed in a clean folder (needs the npm registry or its cache).
export default defineConfig({
  test: { include: ['test/package/*.pkgtest.ts'], testTimeout: 60_000, hookTimeout: 240_000 },
});
