/**
 * Every TypeScript block of the README and docs/ is type-checked against the package's own
 * types, so the documentation cannot drift from the API. Names a snippet uses without defining
 * (`app`, `handler`, `token`, …) are declared once in snippet-globals.d.ts.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = join(root, '.tmp', 'snippets');

interface Snippet {
  readonly file: string;
  readonly line: number;
  readonly code: string;
}

/** Fenced ```ts blocks; a block preceded by `<!-- not-compiled -->` is left out (none is today). */
function snippetsOf(file: string): Snippet[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    if (lines[i - 1]?.trim() !== '<!-- not-compiled -->') {
      found.push({ file: relative(root, file), line: start + 1, code: lines.slice(start, end).join('\n') });
    }
    i = end;
  }
  return found;
}

const docs = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(root, 'docs', f)),
];
const snippets = docs.flatMap(snippetsOf);

describe('documentation snippets', () => {
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('finds the blocks it checks', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(10);
  });

  it('type-check against the package', () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const files = snippets.map((snippet, i) => {
      const path = join(out, `snippet-${i}.ts`);
      // Each block is its own module (top-level await, no name clashes between blocks).
      writeFileSync(path, `${snippet.code}\nexport {};\n`);
      return path;
    });
    const config = ts.readConfigFile(join(root, 'tsconfig.json'), (path) => ts.sys.readFile(path));
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const program = ts.createProgram([...files, join(root, 'test/docs/snippet-globals.d.ts'), join(root, 'src/index.ts')], {
      ...options,
      noEmit: true,
      noUnusedLocals: false,
    });
    const problems = ts.getPreEmitDiagnostics(program).flatMap((d) => {
      if (!d.file || !d.file.fileName.startsWith(out))
        return d.file ? [`${d.file.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`] : [];
      const index = Number(/snippet-(\d+)\.ts$/.exec(d.file.fileName)![1]);
      const snippet = snippets[index]!;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      return [`${snippet.file}:${snippet.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`];
    });
    expect(problems).toEqual([]);
  }, 60_000);
});
