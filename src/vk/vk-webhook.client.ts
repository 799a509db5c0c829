import { createHmac } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DeliveryFailure } from './vk-delivery-failure';

const TIMEOUT_MS = 10_000;

/** `sha256=<hex HMAC-SHA256 of the raw body>`, what the receiver recomputes to trust a webhook. */
export function signBody(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** POSTs events to HTTP destinations, signed with `X-Herald-Signature`. */
@Injectable()
export class VkWebhookClient {
  async post(url: string, secret: string, body: string, headers: Record<string, string>): Promise<void> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Herald-VK-Router',
          'x-herald-signature': signBody(secret, Buffer.from(body, 'utf8')),
          ...headers,
        },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new DeliveryFailure(`POST failed: ${(error as Error).message}${cause ? ` (${cause})` : ''}`, false);
    }
    await response.body?.cancel().catch(() => undefined);
    if (response.ok) return;
    // A 4xx other than timeout / conflict / rate limit means this request will never be accepted as it is.
    const permanent = response.status >= 400 && response.status < 500 && ![408, 409, 425, 429].includes(response.status);
    throw new DeliveryFailure(`receiver answered HTTP ${response.status}`, permanent);
  }
}
