import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^cyberark-bearer\/testing$/, replacement: src('testing/index.ts') },
      { find: /^cyberark-bearer\/client$/, replacement: src('client/index.ts') },
      { find: /^cyberark-bearer$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
