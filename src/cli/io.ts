// The CLI's view of the outside world, injected so tests run main() in-process.
import { Chalk, type ChalkInstance } from 'chalk';

export interface Stream {
  write(s: string): unknown;
  isTTY?: boolean;
}

export interface Io {
  stdout: Stream;
  stderr: Stream;
  env: NodeJS.ProcessEnv;
}

/**
 * Colour level: --color/--no-color, then FORCE_COLOR, then a non-empty
 * NO_COLOR, then whether the stream is a TTY (chalk alone ignores NO_COLOR).
 */
export function colorLevel(flag: boolean | undefined, env: NodeJS.ProcessEnv, stream: Stream): 0 | 1 | 2 | 3 {
  if (flag === false) return 0;
  const force = env.FORCE_COLOR;
  if (flag === true || (force !== undefined && force !== '' && force !== '0' && force !== 'false')) {
    const n = Number.parseInt(force ?? '1', 10);
    return (Number.isNaN(n) ? 1 : Math.min(Math.max(n, 1), 3)) as 1 | 2 | 3;
  }
  if (force === '0' || force === 'false') return 0;
  if (env.NO_COLOR) return 0;
  if (!stream.isTTY || env.TERM === 'dumb') return 0;
  return 1;
}

export function chalkFor(flag: boolean | undefined, env: NodeJS.ProcessEnv, stream: Stream): ChalkInstance {
  return new Chalk({ level: colorLevel(flag, env, stream) });
}
