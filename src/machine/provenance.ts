/**
 * Where a model comes from: every architecture policy and every hardware
 * flavour carries one, so that a verdict smpsim prints can be traced to the
 * kernel source (or the architecture manual) it models, and so that what the
 * model deliberately leaves out is written down next to it.
 */
export interface Provenance {
  /** The kernel release (or hardware generation) modelled, e.g. '2.6.38'. */
  version: string;
  /** The tree the facts were read in (a public repository, or 'mainline'). */
  tree: string;
  /** The files (with line ranges where useful) the model follows. */
  files: readonly string[];
  /** The commit the model follows or the fix it stands before/after, 'abbrev12 ("subject")'. */
  commit?: string;
  /** Deliberate deviations from the source, one sentence each. */
  deviations: readonly string[];
}
