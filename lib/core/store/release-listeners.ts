type Listener = (name: string) => void;

/**
 * Release listeners by election name: a release wakes the listeners of that election and those
 * of every election, not all of them (with 10,000 elections, waking every one would be the cost of
 * a hand-over).
 */
export class ReleaseListeners {
  private readonly byName = new Map<string | undefined, Set<Listener>>();

  add(listener: Listener, only?: string): () => void {
    let set = this.byName.get(only);
    if (!set) this.byName.set(only, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.byName.get(only) === set) this.byName.delete(only);
    };
  }

  notify(name: string): void {
    for (const listener of this.byName.get(name) ?? []) listener(name);
    for (const listener of this.byName.get(undefined) ?? []) listener(name);
  }

  clear(): void {
    this.byName.clear();
  }
}
