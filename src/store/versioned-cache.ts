/**
 * A bounded map whose entries are valid only while the data they were read from is unchanged, as
 * told by a version that changes with every commit (SQLite's `PRAGMA data_version`). Any change
 * drops every entry: writes are rare next to reads, and which rows a write touched is unknown.
 *
 * Callers look up, read the data and store what they read within one synchronous step, so no
 * write of this process can fall between them; a commit by another process in between changes the
 * version, and the entry is dropped at the next lookup.
 */
export class VersionedCache<V> {
  readonly #version: () => unknown;
  readonly #max: number;
  readonly #entries = new Map<string, V>();
  #seen: unknown;

  constructor(version: () => unknown, maxEntries: number) {
    this.#version = version;
    this.#max = maxEntries;
    this.#seen = version();
  }

  /** The entry for `key`, if the data has not changed since it was stored. */
  get(key: string): V | undefined {
    const version = this.#version();
    if (version !== this.#seen) {
      this.#entries.clear();
      this.#seen = version;
      return undefined;
    }
    return this.#entries.get(key);
  }

  /** Stores what was read just after a `get` that missed. */
  set(key: string, value: V): void {
    if (this.#max <= 0) return;
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, value);
  }
}
