/** Small text helpers shared by the live view and the plain log. */

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** How many elections each node leads: `a: 10  b: 10  c: 10`. */
export const spreadText = (leading: Record<string, number>): string =>
  Object.entries(leading)
    .map(([nodeId, count]) => `${nodeId}: ${count}`)
    .join('  ');

/** `job-1 … job-30`: a list of names by its ends. */
export const rangeText = (names: readonly string[]): string =>
  names.length > 1 ? `${names[0]} … ${names.at(-1)}` : names.join('');

/** Shows a Redis URL without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

const color = !process.env.NO_COLOR;
const ansi =
  (code: string) =>
  (text: string): string =>
    color ? `\x1b[${code}m${text}\x1b[0m` : text;

export const bold = ansi('1');
export const dim = ansi('2');
export const green = ansi('32');
export const yellow = ansi('33');
export const red = ansi('31');
export const cyan = ansi('36');
