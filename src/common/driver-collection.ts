import type { Collection, Document } from 'mongodb';
import type { Model } from 'mongoose';

/**
 * The MongoDB driver's collection under a Mongoose model (through Mongoose's connection, so it waits for it as the
 * model does), for steps that read or write one document by `_id` with values already of their stored types: they need
 * none of Mongoose's query machinery, which cost Herald more CPU than the driver under it (docs/adr/0004).
 */
export function driverCollection<T extends Document>(model: Model<T>): Collection<T> {
  return model.collection as unknown as Collection<T>;
}

/**
 * A field the caller left undefined is not stored (as Mongoose leaves it out), rather than stored as null: a document
 * reads back as it was given.
 */
export const KEEP_UNDEFINED_OUT = { ignoreUndefined: true } as const;
