import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * smpsim's version, read from its package.json (the one place it is written).
 * This module runs from src/ under vitest and from dist/src/ when built, so
 * the file is found by walking up to the package named smpsim.
 */
function readVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; ) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'smpsim' && pkg.version) return pkg.version;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('smpsim: package.json not found above the installation');
    dir = up;
  }
}

export const VERSION = readVersion();
