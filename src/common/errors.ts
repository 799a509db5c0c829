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
  ) {
    super(message);
    this.name = 'DependencyUnavailableError';
  }
}
