import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', client: 'src/client/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // The CLI below is built in parallel into the same folder: leave its files alone.
    clean: ['!cli.js', '!cli.js.map'],
    target: 'node20',
    platform: 'node',
    // Shared chunks, so that `cyberark-bearer` and `cyberark-bearer/client` hold the same
    // ConfigError class (instanceof works across entry points) and one default logger.
    splitting: true,
  },
  {
    // The `cyberark-bearer` command: one ESM file; its shebang makes tsup mark it executable.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    splitting: false,
  },
]);
