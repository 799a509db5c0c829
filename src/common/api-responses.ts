import { ApiPayloadTooLargeResponse, ApiServiceUnavailableResponse } from '@nestjs/swagger';

/** Documents the 413 of the body parsers (`src/app.ts`) on an endpoint that takes a body. */
export const ApiBodyTooLargeResponse = (limit = '10 MB') =>
  ApiPayloadTooLargeResponse({ description: `The body is over the ${limit} this endpoint takes; nothing is stored.` });

/** Documents the 503 an endpoint that reads or writes MongoDB answers while MongoDB is unreachable. */
export const ApiMongoUnavailableResponse = () =>
  ApiServiceUnavailableResponse({
    description: 'MongoDB is unreachable (`dependency: "mongodb"`); try again after `Retry-After` seconds.',
  });
