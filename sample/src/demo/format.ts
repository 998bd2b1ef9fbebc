/** Small text helpers shared by the live view and the plain log. */

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

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
