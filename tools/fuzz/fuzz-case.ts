/**
 * One fuzz case: the CLI's arguments and the files they name. `{dir}` in an
 * argument stands for the case's own fresh directory; `files` are written
 * there first. Every case is a bad input: the CLI must exit 2 with exactly
 * one line on stderr, nothing on stdout, and leave the directory as it was.
 */
export interface FuzzCase {
  /** What the case is (printed with a failure). */
  what: string;
  argv: string[];
  files?: Record<string, string>;
}

/** Substitute the case's directory for `{dir}`. */
export function argvIn(c: FuzzCase, dir: string): string[] {
  return c.argv.map((a) => a.split('{dir}').join(dir));
}
