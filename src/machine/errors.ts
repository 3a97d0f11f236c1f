/** An IPI that was not acknowledged in time: the target is stuck (soft lockup). */
export class IpiTimeoutError extends Error {
  constructor(
    readonly sender: number,
    readonly target: number,
    readonly serial: number,
    readonly waitedMs: number,
    readonly targetIrqOffSince: number | null,
    readonly targetOp: string,
  ) {
    super(
      `CPU ${target} did not acknowledge IPI #${serial} from CPU ${sender} within ${(waitedMs / 1000).toFixed(waitedMs < 1000 ? 3 : 1)} s; ` +
        (targetIrqOffSince === null ? 'interrupts enabled' : `interrupts disabled since step ${targetIrqOffSince}`) +
        ` (op: ${targetOp})`,
    );
    this.name = 'IpiTimeoutError';
  }
}
