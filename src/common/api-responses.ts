import { applyDecorators } from '@nestjs/common';
import { ApiPayloadTooLargeResponse, ApiServiceUnavailableResponse, ApiUnsupportedMediaTypeResponse } from '@nestjs/swagger';

/** Documents the 413 of the body parsers (`src/app.ts`) on an endpoint that takes a body. */
export const ApiBodyTooLargeResponse = (limit = '10 MB') =>
  ApiPayloadTooLargeResponse({ description: `The body is over the ${limit} this endpoint takes; nothing is stored.` });

/** Documents what an endpoint that takes a JSON body answers for a body it cannot read (`src/common/json-body.ts`). */
export const ApiJsonBodyResponses = () =>
  applyDecorators(
    ApiBodyTooLargeResponse(),
    ApiUnsupportedMediaTypeResponse({
      description:
        'The body is not JSON: no Content-Type, a type Herald does not read, JSON sent as a form (curl -d without ' +
        "-H 'Content-Type: application/json'), or a form where the endpoint does not list it under its request body's types; nothing is stored.",
    }),
  );

/** Documents the 503 an endpoint that reads or writes MongoDB answers while MongoDB is unreachable. */
export const ApiMongoUnavailableResponse = () =>
  ApiServiceUnavailableResponse({
    description: 'MongoDB is unreachable (`dependency: "mongodb"`); try again after `Retry-After` seconds.',
  });
