import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliInProcess, inProcessCli } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smpsim-out-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const RUN = ['run', 'arm-delayed-free', '--arch', 'linux-6', '--hw', 'arm64', '--iterations', '1'];
/** The CLI run for real in this process, on a warm CPU pool; the full device below takes a real process. */
const run = inProcessCli();

describe('output files and streams are checked before the run and failures are said', () => {
  it.each([
    [['--trace', '/proc/smpsim-t.json'], /^smpsim: --trace: cannot write the trace '\/proc\/smpsim-t\.json': \w+ creating a file in \/proc\n$/],
    [['--trace', '/nonexistent-dir/t.json'], /^smpsim: --trace: cannot write the trace '\/nonexistent-dir\/t\.json': directory \/nonexistent-dir does not exist\n$/],
    [['--trace', 'DIR/t.json/'], /^smpsim: --trace: cannot write the trace '.*t\.json\/': it names a directory \(it ends in '\/'\)\n$/],
    [['--hw', ''], /^smpsim: empty hardware flavour name \(known: arm11mpcore, .*\)\n$/],
    [['--csv', '/nonexistent-dir/r.csv'], /^smpsim: --csv: cannot write the CSV report '\/nonexistent-dir\/r\.csv': directory \/nonexistent-dir does not exist\n$/],
    [['--csv', '-', '--json'], /^smpsim: --csv - and --json both print on stdout: give --csv a file, or use --report FILE for the JSON\n$/],
    [['--expect', 'sometimes'], /^smpsim: option '--expect <outcome>' argument 'sometimes' is invalid\. Allowed choices are caught, clean\.\n$/],
  ])('refused before any thread runs: %j', async (extra, message) => {
    const args = [...RUN.filter((a, i) => !(extra[0] === '--hw' && (a === '--hw' || RUN[i - 1] === '--hw'))), ...extra.map((a) => a.replace('DIR', dir))];
    // Stopping once the inputs are checked: a case that got past the checks would exit 0.
    const r = await cliInProcess(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('a trace onto a symbolic link writes the file it points to and keeps the link', async () => {
    const link = join(dir, 'link.json');
    const target = join(dir, 'target.json');
    symlinkSync(target, link);
    const r = await run([...RUN, '--trace', link]);
    expect(r.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(JSON.parse(readFileSync(target, 'utf8')).traceEvents.length).toBeGreaterThan(0);
  });

  it('a report that cannot be written to stdout (a full device) exits 3 with one line, not 0', () => {
    if (!existsSync('/dev/full')) return;
    const r = spawnSync('sh', ['-c', `"${process.execPath}" dist/src/cli/main.js ${RUN.join(' ')} --json > /dev/full`], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(3);
    expect(r.stderr).toBe('smpsim: cannot write to standard output: ENOSPC\n');
  });
});
