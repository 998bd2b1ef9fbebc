/** How a TurnBatch sends what was queued in one turn. */
export interface TurnBatchOptions<Item, Answer> {
  /** Sends `items` as one command; resolves with one answer per item, in their order. */
  readonly send: (items: Item[]) => Promise<Answer[]>;
  /** Items of different groups never share a command (Redis Cluster: the key's slot). */
  readonly groupOf?: (item: Item) => number | string;
  /** At most this many items per command: a long script blocks the server for everyone. */
  readonly maxItems: number;
}

/** Hears the answers of the items it submitted, each by the index it gave; it never throws. */
export interface BatchReceiver<Answer> {
  answered(index: number, answer: Answer): void;
  failed(index: number, error: unknown): void;
}

interface Queued<Item, Answer> {
  readonly item: Item;
  readonly receiver: BatchReceiver<Answer>;
  readonly index: number;
}

/** The receiver of one promise's item. */
function promised<Answer>(
  resolve: (answer: Answer) => void,
  reject: (error: unknown) => void,
): BatchReceiver<Answer> {
  return { answered: (_, answer) => resolve(answer), failed: (_, error) => reject(error) };
}

/**
 * Calls made in one turn of the event loop, sent together: `submit` queues an item, and once the
 * turn's callbacks and microtasks have run (setImmediate), the queue goes out as one command per
 * group and `maxItems` (or earlier, on `flush`). Each item settles with its own answer, or with
 * the command's error; nothing is sent twice.
 */
export class TurnBatch<Item, Answer> {
  private queue: Queued<Item, Answer>[] = [];

  constructor(private readonly options: TurnBatchOptions<Item, Answer>) {
    if (!(options.maxItems >= 1))
      throw new RangeError(`maxItems must be >= 1: ${options.maxItems}`);
  }

  submit(item: Item): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) =>
      this.submitTo(item, promised(resolve, reject), 0),
    );
  }

  /** As `submit`, with no promise per item: `receiver` hears item `index`'s answer or error. */
  submitTo(item: Item, receiver: BatchReceiver<Answer>, index: number): void {
    if (this.queue.length === 0) setImmediate(() => this.flush());
    this.queue.push({ item, receiver, index });
  }

  /** Sends what is queued now, instead of at the end of the turn. */
  flush(): void {
    const queued = this.queue;
    this.queue = [];
    const { groupOf, maxItems } = this.options;
    const groups = new Map<number | string, Queued<Item, Answer>[]>();
    for (const entry of queued) {
      const key = groupOf ? groupOf(entry.item) : 0;
      const group = groups.get(key);
      if (group) group.push(entry);
      else groups.set(key, [entry]);
    }
    for (const group of groups.values()) {
      for (let from = 0; from < group.length; from += maxItems)
        this.sendChunk(group.slice(from, from + maxItems));
    }
  }

  /** Sends at once (a command called next leaves after it); a send that throws rejects the chunk. */
  private sendChunk(chunk: Queued<Item, Answer>[]): void {
    let sent: Promise<Answer[]>;
    try {
      sent = this.options.send(chunk.map((entry) => entry.item));
    } catch (error) {
      sent = Promise.reject(error);
    }
    const failed = (error: unknown) => {
      for (const entry of chunk) entry.receiver.failed(entry.index, error);
    };
    // Receivers do not throw: an item answered is never failed as well.
    sent.then((answers) => {
      if (answers.length !== chunk.length)
        return failed(new Error(`a batch of ${chunk.length} got ${answers.length} answers`));
      for (let i = 0; i < chunk.length; i++)
        chunk[i]!.receiver.answered(chunk[i]!.index, answers[i]!);
    }, failed);
  }
}
