/**
 * The README is the front page: it must keep the install line and the clone commands, link every
 * page of docs/, and no relative link of the README, docs/ or CONTRIBUTING.md may point at a file
 * or heading that does not exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const docs = readdirSync(join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => join(root, 'docs', f));
const pages = [join(root, 'README.md'), join(root, 'CONTRIBUTING.md'), ...docs];
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** Markdown outside fenced blocks, where links and headings live. */
function prose(file: string): string {
  return readFileSync(file, 'utf8').replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as dashes, repeats numbered. */
function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of prose(file).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = heading!
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

describe('the README and docs/', () => {
  it('keep the install line and the commands to run the example from a clone', () => {
    expect(readme).toContain('npm install cyberark-bearer');
    for (const command of ['npm install', 'npm start', 'npm test']) expect(readme).toMatch(new RegExp(`^${command}$`, 'm'));
  });

  it('link every page of docs/ from the README', () => {
    const unlinked = docs.map((file) => relative(root, file)).filter((path) => !readme.includes(`](${path})`));
    expect(unlinked).toEqual([]);
  });

  it('have no broken relative links or anchors', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const [, target] of prose(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue;
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const file = path === '' ? page : join(dirname(page), path);
        const where = `${relative(root, page)} → ${target}`;
        if (!existsSync(file)) broken.push(`${where}: no such file`);
        else if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(file).has(anchor))
          broken.push(`${where}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });
});
