import { FrameKind, type Machine, Pte } from '../src/machine/index.js';

export function mapPages(m: Machine, asid: number, start: number, pages: number): void {
  for (let v = start; v < start + pages; v++) {
    const f = m.alloc.alloc(FrameKind.DATA, asid);
    if (f < 0 || !m.pt.map(asid, v, f, Pte.WRITE)) throw new Error('bench: out of frames');
  }
}
