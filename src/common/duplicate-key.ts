/** MongoDB's (and FerretDB's) "E11000 duplicate key" code: an insert lost the race for a unique index entry. */
const DUPLICATE_KEY = 11000;

export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}
