import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Names this process as the holder of a lease in MongoDB: host, pid and a random part, so two workers of one
 * process, or a restarted process with a reused pid, never take each other's leases for their own.
 */
export function leaseOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}
