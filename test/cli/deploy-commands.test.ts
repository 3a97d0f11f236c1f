import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { type RunCommandOptions, prepareRun } from '../../src/cli/commands/run.js';
import { buildProgram } from '../../src/cli/program.js';

/**
 * The commands the deploy files run are ones smpsim accepts: each file's
 * shell script runs for real (under sh for Kubernetes, bash for GitHub
 * Actions), with its environment as the file sets it, but with `smpsim` (and
 * `npx`) a stand-in that records its arguments; then smpsim's own parser
 * parses them without running anything, and a run's command line is checked
 * against its scenario as `smpsim run` would check it before starting.
 */

const ROOT = new URL('../../', import.meta.url);
const text = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');

let dir: string;
let calls: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smpsim-deploy-'));
  mkdirSync(join(dir, 'bin'));
  calls = join(dir, 'calls');
  const record = `#!${process.execPath}\nrequire('node:fs').appendFileSync(process.env.CALLS, JSON.stringify([require('node:path').basename(process.argv[1]), ...process.argv.slice(2)]) + '\\n');\n`;
  for (const name of ['smpsim', 'npx']) {
    writeFileSync(join(dir, 'bin', name), record);
    chmodSync(join(dir, 'bin', name), 0o755);
  }
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** How each engine runs a script: Kubernetes as the manifest says (`/bin/sh -c`), GitHub Actions' default for `run:` steps. */
const SHELLS = { sh: ['/bin/sh', '-c'], bash: ['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c'] };

/** Run `script` with `shell` in a fresh directory; returns the smpsim command lines it ran (without `smpsim`). */
function runScript(shell: keyof typeof SHELLS, script: string, env: Record<string, string>, prepare?: (cwd: string) => void): string[][] {
  const cwd = mkdtempSync(join(dir, 'cwd-'));
  prepare?.(cwd);
  writeFileSync(calls, '');
  const [exe, ...flags] = SHELLS[shell];
  const r = spawnSync(exe, [...flags, script], {
    cwd,
    encoding: 'utf8',
    env: { PATH: `${join(dir, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`, CALLS: calls, ...env },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return readFileSync(calls, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [tool, ...args] = JSON.parse(line) as string[];
      if (tool === 'npx') {
        expect(args[0]).toBe('smpsim');
        return args.slice(1);
      }
      return args;
    });
}

/** Parse a command line as the CLI would, running nothing; a run is checked against its scenario. */
async function accepted(argv: string[]): Promise<{ command: string; args: unknown[] }> {
  let got: { command: string; args: unknown[] } | undefined;
  const program = buildProgram({ code: 0 }, undefined, (command, args) => (got = { command, args }));
  await program.parseAsync(argv, { from: 'user' });
  expect(got).toBeDefined();
  if (got!.command === 'run') await prepareRun(got!.args[0] as string, got!.args[1] as RunCommandOptions);
  return got!;
}

describe('deploy/k8s/indexed-job.yaml', () => {
  const docs = parseAllDocuments(text('deploy/k8s/indexed-job.yaml')).map((d) => d.toJS());
  const job = docs.find((d) => d.kind === 'Job');
  const container = job.spec.template.spec.containers[0];
  const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));

  it('is an Indexed Job with one completion per shard, writing to the volume it mounts', () => {
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.completions).toBe(Number(env.SHARDS));
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const claim = job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName;
    expect(docs.find((d) => d.kind === 'PersistentVolumeClaim').metadata.name).toBe(claim);
    expect(container.volumeMounts[0].mountPath).toBe('/reports');
  });

  it('runs, for JOB_COMPLETION_INDEX 0..N-1, shards 1/N..N/N of one campaign, as commands smpsim accepts', async () => {
    const n = job.spec.completions as number;
    expect(container.command).toEqual(['/bin/sh', '-c']);
    for (let index = 0; index < n; index++) {
      const [argv, ...more] = runScript('sh', container.args[0], { ...env, JOB_COMPLETION_INDEX: String(index) });
      expect(more).toEqual([]);
      const { command, args } = await accepted(argv);
      expect(command).toBe('run');
      expect(args[1]).toMatchObject({ shard: { k: index + 1, n }, report: `/reports/shard-${index + 1}.json`, mode: env.MODE, iterations: Number(env.ITERATIONS) });
    }
  });

  it('deploy/k8s/merge-job.yaml merges the reports the shards wrote, from the same volume', async () => {
    const merge = parseYaml(text('deploy/k8s/merge-job.yaml'));
    const c = merge.spec.template.spec.containers[0];
    expect(merge.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe(job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName);
    const [argv] = runScript('sh', c.args[0], {});
    const { command, args } = await accepted(argv);
    expect(command).toBe('merge');
    expect(args[0]).toEqual(['/reports/shard-*.json']);
  });
});

describe('.github/workflows/campaign.yml', () => {
  const wf = parseYaml(text('.github/workflows/campaign.yml'));
  const inputs = wf.on.workflow_dispatch.inputs as Record<string, { default: string }>;
  const defaults = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, String(v.default)]));
  const n = Number(defaults.shards);

  /** Replace the `${{ ... }}` expressions this workflow uses; any other fails the test, so a new one is checked. */
  const expand = (s: string, matrix: Record<string, string> = {}): string =>
    s.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, e: string) => {
      const m = /^(inputs|matrix)\.(\w+)$/.exec(e);
      const value = m?.[1] === 'inputs' ? defaults[m[2]] : m ? matrix[m[2]] : undefined;
      if (value === undefined) throw new Error(`unexpected expression in a run step: ${e}`);
      return value;
    });
  const stepEnv = (step: { env?: Record<string, string> }, matrix?: Record<string, string>): Record<string, string> =>
    Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(String(v), matrix)]));

  it('plans a matrix of shards 1..N', () => {
    const step = wf.jobs.plan.steps[0];
    const out = join(dir, 'github-output');
    writeFileSync(out, '');
    runScript('bash', step.run, { ...stepEnv(step), GITHUB_OUTPUT: out });
    expect(readFileSync(out, 'utf8').trim()).toBe(`shards=${JSON.stringify(Array.from({ length: n }, (_, i) => i + 1))}`);
    expect(wf.jobs.shard.strategy.matrix.shard).toBe('${{ fromJSON(needs.plan.outputs.shards) }}');
  });

  it('runs each shard as a command smpsim accepts, and uploads the report it writes', async () => {
    const steps = wf.jobs.shard.steps as { run?: string; env?: Record<string, string>; uses?: string; with?: Record<string, string> }[];
    const run = steps.find((s) => s.run?.includes('smpsim'))!;
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    for (let k = 1; k <= n; k++) {
      const matrix = { shard: String(k) };
      const [argv, ...more] = runScript('bash', run.run!, stepEnv(run, matrix));
      expect(more).toEqual([]);
      const { command, args } = await accepted(argv);
      expect(command).toBe('run');
      expect(args[0]).toBe(defaults.scenario);
      expect(args[1]).toMatchObject({ shard: { k, n }, report: expand(upload.with!.path, matrix), iterations: Number(defaults.iterations), mode: defaults.mode });
    }
    // The optional inputs, given, reach the command line as options smpsim accepts.
    const [argv] = runScript('bash', run.run!, { ...stepEnv(run, { shard: '2' }), ARCH: 'arm-2.6.37,linux-6', HW: 'armv7-mp' });
    expect((await accepted(argv)).args[1]).toMatchObject({ arch: ['arm-2.6.37,linux-6'], hw: 'armv7-mp', shard: { k: 2, n } });
  });

  it('merges, in a final job, every report the shard jobs uploaded', async () => {
    const job = wf.jobs.merge;
    expect(job.needs).toBe('shard');
    const download = job.steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/download-artifact'));
    expect(download.with).toMatchObject({ pattern: 'report-shard-*', path: 'reports', 'merge-multiple': true });
    const step = job.steps.find((s: { run?: string }) => s.run?.includes('smpsim merge'));
    const summary = join(dir, 'step-summary');
    const [argv, ...more] = runScript('bash', step.run, { GITHUB_STEP_SUMMARY: summary }, (cwd) => {
      mkdirSync(join(cwd, 'reports'));
      for (let k = 1; k <= n; k++) writeFileSync(join(cwd, 'reports', `shard-${k}.json`), '{}');
    });
    expect(more).toEqual([]);
    const { command, args } = await accepted(argv);
    expect(command).toBe('merge');
    expect(args[0]).toEqual(Array.from({ length: n }, (_, i) => `reports/shard-${i + 1}.json`));
  });
});

describe('docs/scale-out.md', () => {
  /** The smpsim command lines of its shell blocks (those without shell variables), as words. */
  const commands = [...text('docs/scale-out.md').matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1].split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => /^(npx )?smpsim /.test(line) && !line.includes('$'))
    .map((line) => {
      const words = [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((w) => w[1] ?? w[2] ?? w[3]);
      const end = words.findIndex((w) => ['>', '|', '&&', ';'].includes(w));
      return words.slice(line.startsWith('npx') ? 2 : 1, end < 0 ? undefined : end);
    });

  it('shows smpsim commands, every one of which smpsim accepts', async () => {
    expect(commands.length).toBeGreaterThan(3);
    for (const argv of commands) await accepted(argv);
  });
});
