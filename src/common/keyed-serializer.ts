/**
 * Runs the tasks of one key one at a time, in call order; tasks of different keys run freely.
 *
 * Records that several deliveries update at once rely on MongoDB's atomic single-document updates. FerretDB v1
 * (the tests' database) applies an update as a read followed by a write of the whole document, so two concurrent
 * updates of one record can lose one of them. Serialising a record's writes inside the process closes that gap for
 * everything one process does; on MongoDB 7 it costs a promise hop.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return next;
  }
}
