// Thread entry point of a simulated CPU: a piscina task that serves the CPU's
// control API (src/harness/thread/worker-host.ts). No logic lives here.
export { default } from '../src/harness/thread/worker-host.js';
