/** Thrown when there is no capacity to take more work now; answered as 503 with Retry-After. */
export class ServiceBusyError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'ServiceBusyError';
  }
}

/** Thrown when a dependency needed for this request is down; answered as 503 with Retry-After. */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: string,
    message: string,
    readonly retryAfterSeconds = 5,
    /** More of the answer's body, e.g. the id a write may have been stored under. */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'DependencyUnavailableError';
  }
}

/** An error's message for a log line or a job's reason; whatever else was thrown, as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
