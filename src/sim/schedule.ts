// Schedule tokens: the thread chosen at each step, run-length encoded, versioned.
//
//   s1-a3b2a   = thread a for 3 steps, b for 2, then a for 1
//
// Thread letters follow the order of `threads:` in the scenario (a = first).
// The `s1` prefix is the token format version; any other prefix is refused
// with a message instead of being replayed wrongly.

export const SCHEDULE_VERSION = 's1';
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

export class BadToken extends Error {}

export function encodeSchedule(choices: readonly number[]): string {
  let out = `${SCHEDULE_VERSION}-`;
  let i = 0;
  while (i < choices.length) {
    const c = choices[i]!;
    let n = 1;
    while (i + n < choices.length && choices[i + n] === c) n++;
    out += LETTERS[c]! + (n > 1 ? String(n) : '');
    i += n;
  }
  return out;
}

export function decodeSchedule(token: string): number[] {
  const dash = token.indexOf('-');
  const version = dash < 0 ? '' : token.slice(0, dash);
  if (version !== SCHEDULE_VERSION) {
    throw new BadToken(
      /^s\d+$/.test(version)
        ? `schedule token format ${version} is not supported by this daxsim (it reads ${SCHEDULE_VERSION})`
        : `not a schedule token: '${token}' (expected '${SCHEDULE_VERSION}-' followed by thread letters and counts, e.g. ${SCHEDULE_VERSION}-a3b2a)`,
    );
  }
  const body = token.slice(dash + 1);
  const out: number[] = [];
  const re = /([a-z])(\d*)/y;
  let at = 0;
  while (at < body.length) {
    re.lastIndex = at;
    const m = re.exec(body);
    if (m === null) throw new BadToken(`bad schedule token: unexpected '${body[at]}' at offset ${dash + 1 + at} of '${token}'`);
    const n = m[2] === '' ? 1 : Number(m[2]);
    if (!Number.isSafeInteger(n) || n < 1 || n > 10_000_000) throw new BadToken(`bad schedule token: run length '${m[2]}' in '${token}'`);
    const id = LETTERS.indexOf(m[1]!);
    for (let k = 0; k < n; k++) out.push(id);
    at = re.lastIndex;
  }
  return out;
}

/** The letter naming thread number `id` in tokens and traces. */
export function threadLetter(id: number): string {
  return LETTERS[id]!;
}
