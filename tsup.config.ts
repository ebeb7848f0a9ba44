import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', client: 'src/client/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // Shared chunks, so that `cyberark-bearer` and `cyberark-bearer/client` hold the same
  // ConfigError class (instanceof works across entry points) and one default logger.
  splitting: true,
});
