// Paging of the outbox listings (GET /outbox, a feature's own such as GET /vk/deliveries): an order and a cursor.
import { registerDecorator } from 'class-validator';
import { Types } from 'mongoose';

export const OUTBOX_LIST_ORDERS = ['newest', 'oldest'] as const;
export type OutboxListOrder = (typeof OUTBOX_LIST_ORDERS)[number];

/**
 * Where a page ended: the last item's time (a job's `createdAt`, a parked mark's `at`) and id, which breaks ties
 * between items of one millisecond. The next page starts past it in the listing's order, so items stored meanwhile
 * neither repeat nor shift what is still to come (newest first, they land before the first page).
 */
export interface OutboxCursor {
  at: Date;
  id: Types.ObjectId;
}

/** How a listing's `next` is used, the same words for every outbox listing (Swagger). */
export const NEXT_DESCRIPTION =
  'The cursor of the next page (pass it as `cursor` with the same filters and `order`), or null on the last page. ' +
  'Pages follow each other by time and id, so jobs stored meanwhile neither repeat nor push others to the next page.';
export const CURSOR_DESCRIPTION = 'The `next` of the previous page, to read on from there (400 naming `cursor` for anything else).';

/** What a listing asks of the store. */
export interface OutboxPageRequest {
  order: OutboxListOrder;
  after?: OutboxCursor;
  limit: number;
}

/** One page of a listing; `next` is the cursor for the page after it, or null when this one is the last. */
export interface OutboxPage<T> {
  items: T[];
  next: string | null;
}

/** Opaque to clients (base64url of `<ms>.<hex id>`), so its form may change without breaking them. */
export function encodeCursor(cursor: OutboxCursor): string {
  return Buffer.from(`${cursor.at.getTime()}.${cursor.id.toHexString()}`).toString('base64url');
}

/** The cursor a `next` encoded, or null for any other string. */
export function decodeCursor(text: string): OutboxCursor | null {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(text)) return null;
  const match = /^(\d{1,15})\.([0-9a-f]{24})$/.exec(Buffer.from(text, 'base64url').toString('latin1'));
  if (!match) return null;
  const at = new Date(Number(match[1]));
  return Number.isNaN(at.getTime()) ? null : { at, id: new Types.ObjectId(match[2]) };
}

/** A listing's order and cursor as the store takes them; `cursor` has been validated by IsOutboxCursor. */
export function pageRequest(query: { order?: OutboxListOrder; cursor?: string; limit?: number }): OutboxPageRequest {
  const after = query.cursor === undefined ? undefined : (decodeCursor(query.cursor) ?? undefined);
  return { order: query.order ?? 'newest', after, limit: query.limit ?? 100 };
}

/**
 * The filter for the items past `after` in this order, sorted by (`timeField`, `_id`). The plain range on the time
 * field beside the `$or` lets MongoDB bound its index scan by it; FerretDB v1 evaluates both as given.
 */
export function pageFilter(timeField: string, page: OutboxPageRequest): Record<string, unknown> {
  if (!page.after) return {};
  const [past, pastOrAt] = page.order === 'newest' ? (['$lt', '$lte'] as const) : (['$gt', '$gte'] as const);
  const { at, id } = page.after;
  return {
    [timeField]: { [pastOrAt]: at },
    $or: [{ [timeField]: { [past]: at } }, { [timeField]: at, _id: { [past]: id } }],
  };
}

export function pageSort(timeField: string, order: OutboxListOrder): Record<string, 1 | -1> {
  const direction = order === 'newest' ? -1 : 1;
  return { [timeField]: direction, _id: direction };
}

/**
 * A page from `limit + 1` items read: the extra one only tells that there is a next page. `cursorOf` gives each
 * item's place (a filtered-out item still counts: the next page starts past what was read).
 */
export function toPage<T>(read: T[], limit: number, cursorOf: (item: T) => OutboxCursor): { items: T[]; next: string | null } {
  const items = read.slice(0, limit);
  return { items, next: read.length > limit ? encodeCursor(cursorOf(items[items.length - 1])) : null };
}

/** A query parameter that must be a `next` from an earlier page of the same listing. */
export function IsOutboxCursor(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'outboxCursor',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `${String(propertyName)} must be the \`next\` of an earlier page of this listing, unchanged` },
      validator: { validate: (value: unknown) => typeof value === 'string' && decodeCursor(value) !== null },
    });
}
