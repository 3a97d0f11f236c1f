import { describe, expect, it } from 'vitest';
import { KERNEL_COMMANDS, commandDef } from '../../src/kernel/commands/index.js';
import { kernelCommandSchema } from '../../src/kernel/commands/schemas.js';
import { SYSCALL_NAMES, kernelOp, kernelOpName, syscallCode, Step } from '../../src/kernel/ops.js';
import { parseScenario } from '../../src/harness/scenario-schema.js';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';

describe('kernel command table', () => {
  it('declares each command once, and the dispatcher finds each by its op', () => {
    const ops = KERNEL_COMMANDS.map((d) => d.op);
    expect(new Set(ops).size).toBe(ops.length);
    for (const d of KERNEL_COMMANDS) expect(commandDef(d.op)).toBe(d);
    expect(commandDef('mremap-that-does-not-exist')).toBeUndefined();
  });

  it('the system-call names reports print come from the commands that declare one', () => {
    const declared = KERNEL_COMMANDS.flatMap((d) => (d.syscall ? [d.syscall] : []));
    expect(SYSCALL_NAMES.slice(1)).toEqual([...new Set(declared)]);
    for (const name of declared) expect(kernelOpName(kernelOp(syscallCode(name), Step.NONE))).toBe(name);
    expect(() => syscallCode('mprotect' as never)).toThrow(/no kernel command declares/);
  });

  it('each command schema refuses unknown keys and wrong types, naming the field', () => {
    for (const d of KERNEL_COMMANDS) {
      const r = kernelCommandSchema.safeParse({ op: d.op, asid: 0, bogus: 1 });
      expect(r.success, d.op).toBe(false);
    }
    expect(kernelCommandSchema.safeParse({ op: 'munmap', asid: 0, start: 1, end: 4 }).success).toBe(true);
    expect(kernelCommandSchema.safeParse({ op: 'munmap', asid: 0, start: 'one', end: 4 }).success).toBe(false);
    expect(kernelCommandSchema.safeParse({ op: 'mprotect', asid: 0 }).success).toBe(false);
  });

  it('a scenario is checked against the same schemas: unknown ops and unknown arguments are named', () => {
    expect(() => parseScenario({ ...armDelayedFree, script: [{ op: 'mprotect', asid: 0 }] }, 'x')).toThrow(/script\[0\]/);
    expect(() => parseScenario({ ...armDelayedFree, script: [{ op: 'munmap', asid: 0, start: 1, end: 2, len: 3 }] }, 'x')).toThrow(/script\[0\]/);
    expect(parseScenario(armDelayedFree, 'x').name).toBe(armDelayedFree.name);
  });

  it('a combination may only set options its policy declares', () => {
    const combo = (arch: string, archOptions: object) => ({ ...armDelayedFree, combinations: [{ arch, archOptions, hw: 'x86', expect: null }] });
    expect(() => parseScenario(combo('linux-6', { itlb: 'always' }), 'x')).toThrow(/linux-6 takes no option itlb/);
    expect(() => parseScenario(combo('linux-6', { nested: 'sometimes' }), 'x')).toThrow(/archOptions\.nested/);
    expect(parseScenario(combo('linux-6', { nested: 'range-drops-freed-tables' }), 'x').combinations[0].archOptions).toEqual({ nested: 'range-drops-freed-tables' });
  });
});
