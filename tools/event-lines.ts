import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';

/**
 * What a node program tells the program that started it: one JSON object a line on its stdout,
 * among whatever else it prints (Nest's log lines). `ev` names the event, `node` is the node's id
 * and `t` the time in ms on the writer's clock; programs that compare the lines of several
 * processes give them all one clock. The other fields are the event's own.
 */
export interface EventLine {
  readonly ev: string;
  readonly node: string;
  readonly t: number;
}

/** Writes `event` as one line on `out` (stdout by default). */
export function writeEventLine(
  event: EventLine,
  out: { write(text: string): unknown } = process.stdout,
): void {
  out.write(`${JSON.stringify(event)}\n`);
}

/**
 * The event on `line`, or undefined for a line that is not one (a log line, a JSON value of
 * another shape). `E` is the caller's union of the events its nodes write.
 */
export function parseEventLine<E extends EventLine = EventLine>(line: string): E | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as Partial<EventLine> | null;
    const valid =
      typeof value?.ev === 'string' &&
      typeof value.node === 'string' &&
      typeof value.t === 'number';
    return valid ? (value as E) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads `input` line by line: each event goes to `onEvent`, every other line to `onOther`. */
export function readEventLines<E extends EventLine = EventLine>(
  input: Readable,
  onEvent: (event: E) => void,
  onOther: (line: string) => void = () => undefined,
): void {
  createInterface({ input }).on('line', (line) => {
    const event = parseEventLine<E>(line);
    if (event) onEvent(event);
    else onOther(line);
  });
}
