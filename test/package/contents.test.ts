import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The package stands alone: what the CLI's help and the docs point a user to
 * is in the tarball, and the README and docs link only to files of the
 * repository (nothing above it, which a user of the package never has).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .map((f) => join(dir, f));
}

const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);

describe('the packed package', () => {
  let packed: Set<string>;
  beforeAll(() => {
    // --ignore-scripts: list what would be packed without rebuilding (prepare).
    const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    packed = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path));
  });

  it('ships the README and every doc, the domain notes among them', () => {
    expect(docs).toContain('docs/domain.md');
    for (const f of ['README.md', 'package.json', ...docs]) expect(packed, f).toContain(f);
  });

  it('every docs/*.md that src/ mentions (help texts, messages, comments) exists and is shipped', () => {
    const mentioned = new Set(filesUnder('src', '.ts').flatMap((f) => [...readFileSync(join(ROOT, f), 'utf8').matchAll(/\bdocs\/[\w.-]+\.md\b/g)].map((m) => m[0])));
    expect(mentioned).toContain('docs/json-report.md');
    for (const d of mentioned) {
      expect(existsSync(join(ROOT, d)), d).toBe(true);
      expect(packed, d).toContain(d);
    }
  });

  it('ships the built entry points that package.json names, and the CLI', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; exports: Record<string, string | Record<string, string>> };
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
    for (const t of [...targets.filter((x) => !x.includes('*')), ...Object.values(pkg.bin)]) expect(packed, t).toContain(t.replace(/^\.\//, ''));
    expect(packed).toContain('dist/src/cli/ts-hooks.js');
  });
});

describe('links in the README and docs', () => {
  const pages = ['README.md', ...docs];
  it.each(pages)('%s links only to files inside the repository that exist', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t) && !t.startsWith('#'));
    for (const t of targets) {
      const file = resolve(dirname(join(ROOT, page)), t.split('#')[0]);
      expect(relative(ROOT, file).startsWith('..'), `${page} → ${t} leaves the repository`).toBe(false);
      expect(existsSync(file) && statSync(file).isFile(), `${page} → ${t} does not exist`).toBe(true);
    }
  });
});
