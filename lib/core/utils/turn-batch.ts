/** How a TurnBatch sends what was queued in one turn. */
export interface TurnBatchOptions<Item, Answer> {
  /** Sends `items` as one command; resolves with one answer per item, in their order. */
  readonly send: (items: Item[]) => Promise<Answer[]>;
  /** Items of different groups never share a command (Redis Cluster: the key's slot). */
  readonly groupOf?: (item: Item) => number | string;
  /** At most this many items per command: a long script blocks the server for everyone. */
  readonly maxItems: number;
}

interface Queued<Item, Answer> {
  readonly item: Item;
  readonly resolve: (answer: Answer) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Calls made in one turn of the event loop, sent together: `submit` queues an item, and once the
 * turn's callbacks and microtasks have run (setImmediate), the queue goes out as one command per
 * group and `maxItems` (or earlier, on `flush`). Each item's promise settles with its own answer, or with the command's
 * error; nothing is sent twice.
 */
export class TurnBatch<Item, Answer> {
  private queue: Queued<Item, Answer>[] = [];

  constructor(private readonly options: TurnBatchOptions<Item, Answer>) {
    if (!(options.maxItems >= 1))
      throw new RangeError(`maxItems must be >= 1: ${options.maxItems}`);
  }

  submit(item: Item): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ item, resolve, reject });
    });
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
    sent
      .then((answers) => {
        if (answers.length !== chunk.length)
          throw new Error(`a batch of ${chunk.length} got ${answers.length} answers`);
        chunk.forEach((entry, i) => entry.resolve(answers[i]!));
      })
      .catch((error: unknown) => {
        for (const entry of chunk) entry.reject(error);
      });
  }
}
