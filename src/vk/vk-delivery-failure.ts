/** A failed delivery attempt; `permanent` when retrying the same request cannot succeed (the delivery is parked). */
export class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'DeliveryFailure';
  }
}
