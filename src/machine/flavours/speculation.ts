/** Probability per step of a speculative walk, for every flavour whose CPUs walk speculatively. */
export const SPECULATION = 0.02;
