/**
 * Named one-shot timers: setting one replaces it, so each name is pending at most once. What a
 * timer runs may be async; a rejection goes to `onError` instead of becoming unhandled.
 */
export class Timers<Name extends string> {
  private readonly pending = new Map<Name, NodeJS.Timeout>();

  constructor(
    private readonly fire: (name: Name) => unknown,
    private readonly onError: (error: unknown) => void,
  ) {}

  set(name: Name, ms: number): void {
    this.clear(name);
    const handle = setTimeout(
      () => {
        this.pending.delete(name);
        Promise.resolve()
          .then(() => this.fire(name))
          .catch(this.onError);
      },
      Math.max(0, ms),
    );
    this.pending.set(name, handle);
  }

  clear(name: Name): void {
    clearTimeout(this.pending.get(name));
    this.pending.delete(name);
  }

  clearAll(): void {
    for (const name of this.pending.keys()) this.clear(name);
  }
}
