/** An IPI that was not acknowledged in time: the target is stuck (soft lockup). */
export class IpiTimeoutError extends Error {
  constructor(
    readonly sender: number,
    readonly target: number,
    readonly serial: number,
    readonly waitedMs: number,
    readonly targetIrqOffSince: number | null,
    readonly targetOp: string,
    readonly limitMs: number,
  ) {
    super(
      `CPU ${target} did not acknowledge IPI #${serial} from CPU ${sender} within ${+(limitMs / 1000).toFixed(3)} s; ` +
        (targetIrqOffSince === null ? 'interrupts enabled' : `interrupts disabled since step ${targetIrqOffSince}`) +
        ` (op: ${targetOp})`,
    );
    this.name = 'IpiTimeoutError';
  }
}
