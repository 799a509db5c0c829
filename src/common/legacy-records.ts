import { Logger } from '@nestjs/common';
import type { mongo } from 'mongoose';
import { isDuplicateKey } from './duplicate-key';

type Collection = mongo.Collection;
type Document = mongo.Document;
type Filter<T> = mongo.Filter<T>;

/** Records from before a collection's `_id` was derived from its fields have an ObjectId there. */
const LEGACY = { _id: { $type: 'objectId' as const } };
const MOVE_BATCH = 100;
/** While a version that writes ObjectId records may still run beside this one (a rolling upgrade), look again this often. */
const LEGACY_LOOK_MS = 10 * 60_000;

/**
 * Moves the records an older version stored under an ObjectId to the `_id` this version derives from their fields
 * (`idOf`), so every read and write is an `_id` lookup (a point read on MongoDB; on FerretDB v1 the cheapest scan
 * there is, where a filter on other fields decodes every record in Go).
 *
 * Each record is moved once: copied under its new `_id` (an insert; a copy that exists already is left alone), then the
 * original deleted; a stop between the two leaves both, and the next move deletes the original. So no unique index may
 * cover the fields the copy shares with its original. `look` runs after start-up (start-up does not wait for it) and
 * again every 10 minutes, for records a replica of an older version writes during a rolling upgrade. Until a look finds
 * none, `mayRemain` is true, and `find` looks a record missed by `_id` up by its old key.
 */
export class LegacyRecordMover<T extends Document> {
  private readonly logger: Logger;
  private remaining = true;
  private lookTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  /**
   * @param legacyIndex the unique index older versions kept on the fields `_id` is now derived from: it is dropped
   * (dropLegacyIndex), since a copy must sit beside its original until the original goes.
   */
  constructor(
    private readonly collection: () => Collection,
    private readonly idOf: (record: T) => string,
    private readonly what: string,
    private readonly legacyIndex: string,
  ) {
    this.logger = new Logger(`LegacyRecordMover(${what})`);
  }

  /** Drops the older versions' unique index, if it is there; before the store creates its own indexes. */
  async dropLegacyIndex(): Promise<void> {
    await this.collection()
      .dropIndex(this.legacyIndex)
      .catch(() => undefined);
  }

  /**
   * A store's read by `_id` (`read`), with the fallback for records not yet moved: on a miss while any may remain, the
   * record an older version stored under `oldKey` is moved and read again.
   */
  async find<R>(read: () => Promise<R | null>, oldKey: Filter<T>): Promise<R | null> {
    const record = await read();
    if (record || !this.remaining || !(await this.moveMatching(oldKey))) return record;
    return read();
  }

  /** Whether records an older version wrote may remain (until the first look finds none). */
  get mayRemain(): boolean {
    return this.remaining;
  }

  /**
   * Moves every legacy record, in batches, and says what it did; then schedules the next look (also after a failed
   * one, so a database that was away at start-up is looked at again). Never throws.
   */
  async look(): Promise<void> {
    try {
      let moved = 0;
      for (;;) {
        const batch = await this.collection().find<T & { _id: unknown }>(LEGACY).limit(MOVE_BATCH).toArray();
        for (const record of batch) await this.moveOne(record);
        moved += batch.length;
        if (batch.length < MOVE_BATCH) break;
      }
      this.remaining = false;
      if (moved) this.logger.log({ records: moved, collection: this.what }, 'Moved records an older version wrote to their new ids');
    } catch (error) {
      // Not confirmed gone: misses keep looking records up by their old key.
      this.remaining = true;
      this.logger.warn(
        { err: error, collection: this.what },
        'Could not look for records an older version wrote; trying again in 10 minutes, and a miss meanwhile looks by the old key',
      );
    } finally {
      this.scheduleLook();
    }
  }

  /** Moves the legacy record matching `filter` (its old key), if any; answers whether one was found. */
  private async moveMatching(filter: Filter<T>): Promise<boolean> {
    const legacy = await this.collection().findOne<T & { _id: unknown }>({ ...LEGACY, ...filter } as Filter<Document>);
    if (!legacy) return false;
    await this.moveOne(legacy);
    return true;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.lookTimer);
  }

  private scheduleLook(): void {
    clearTimeout(this.lookTimer);
    if (this.stopped) return;
    this.lookTimer = setTimeout(() => void this.look(), LEGACY_LOOK_MS);
    this.lookTimer.unref();
  }

  private async moveOne(record: T & { _id: unknown }): Promise<void> {
    const { _id: legacyId, ...fields } = record;
    try {
      await this.collection().insertOne({ ...fields, _id: this.idOf(record) } as never);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    await this.collection().deleteOne({ _id: legacyId as never });
  }
}
