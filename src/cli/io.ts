/**
 * Where the CLI writes. Every line the CLI prints, on stdout or stderr, goes
 * through writeOut() or writeErr(): to the process's streams, or, inside runCli
 * (program.ts), to strings, so that an in-process run (the fuzzer's) sees
 * exactly what a spawned one would. One command runs at a time.
 */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const PROCESS_IO: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

let current: CliIo = PROCESS_IO;

export function writeOut(text: string): void {
  current.out(text);
}

export function writeErr(text: string): void {
  current.err(text);
}

/**
 * Whether stderr is a terminal a person watches (progress bars, the notes
 * that go with them): process.stderr's answer, and never inside runCli,
 * whose stderr is a string, as a pipe's would be.
 */
export function stderrIsTerminal(): boolean {
  return current === PROCESS_IO && Boolean(process.stderr.isTTY);
}

/** Run `f` with the CLI's output going to `io`. */
export async function withIo<T>(io: CliIo, f: () => Promise<T>): Promise<T> {
  const previous = current;
  current = io;
  try {
    return await f();
  } finally {
    current = previous;
  }
}

/**
 * A message that must stay one line whatever the user typed: control
 * characters (a newline in a policy name, a tab in a path) are shown escaped.
 */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}
