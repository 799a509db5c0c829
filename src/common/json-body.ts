import { BadRequestException } from '@nestjs/common';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';

/** The media types the JSON body parser reads (`src/app.ts`): plain JSON and its `+json` variants (merge-patch, ...). */
export const JSON_BODY_TYPES = ['application/json', 'application/*+json'];
const FORM = 'application/x-www-form-urlencoded';
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Answers 415 for a request body Herald would not read: one without a Content-Type, or of a type no parser takes
 * (`text/plain`, XML, ...), and JSON sent as an HTML form, which is what `curl -d '{...}'` does unless told
 * `-H 'Content-Type: application/json'`. Without this such a body reached validation as `{}` (or as one form field
 * named after the whole JSON text), and the client was told its fields were missing. A form body that is a form
 * (`message=hello`) is still read. Bodies an endpoint reads itself (the Drone webhook's raw bytes) are left alone.
 */
export function refuseUnreadBodies(): RequestHandler {
  return (request, response, next) => {
    if (!WITH_BODY.has(request.method) || !carriesBody(request) || Buffer.isBuffer(request.body) || request.is(JSON_BODY_TYPES)) {
      return next();
    }
    const type = request.headers['content-type'];
    const isForm = typeof request.is(FORM) === 'string';
    if (isForm && !looksLikeJson(request)) return next();
    response.status(415).json({ statusCode: 415, error: 'Unsupported Media Type', message: unreadBodyMessage(type, isForm) });
  };
}

function unreadBodyMessage(type: string | undefined, isForm: boolean): string {
  const ask = 'send the body as JSON with Content-Type: application/json';
  if (isForm) return `The body is JSON but its Content-Type says ${FORM} (what curl -d sends unless told otherwise): ${ask}`;
  if (!type) return `The body has no Content-Type: ${ask}`;
  return `Content-Type ${type.split(';')[0].trim()} is not read here: ${ask}`;
}

/** A body is on its way: a length over zero, or chunks (whose length is unknown until read). */
function carriesBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return length !== undefined ? Number(length) > 0 : request.headers['transfer-encoding'] !== undefined;
}

/** The form's raw bytes (Nest keeps them with `rawBody: true`) begin as a JSON object or array would. */
function looksLikeJson(request: Request): boolean {
  const raw = (request as Request & { rawBody?: Buffer }).rawBody;
  return raw !== undefined && /^\s*[[{]/.test(raw.subarray(0, 64).toString('latin1'));
}

/**
 * Says what is wrong with a JSON body the parser refused, as a 400 the exception filter answers: not JSON at all (with
 * the parser's position), or JSON that is not an object or an array (`null`, `1`, `"text"`), which the parser also
 * refuses but reports as "not valid JSON", wrongly.
 */
export function describeUnreadableJson(): ErrorRequestHandler {
  return (error: unknown, request, _response, next) => {
    const { type, body } = (error ?? {}) as { type?: unknown; body?: unknown };
    const jsonRefused = error instanceof SyntaxError && type === 'entity.parse.failed' && typeof body === 'string';
    if (!jsonRefused || !request.is(JSON_BODY_TYPES)) return next(error);
    const value = parsedOrNothing(body);
    next(
      new BadRequestException(
        value === NOT_JSON
          ? `The body is not valid JSON: ${error.message}`
          : `The body must be a JSON object; this one is ${value === null ? 'null' : `a ${typeof value}`}`,
      ),
    );
  };
}

const NOT_JSON = Symbol('not JSON');

function parsedOrNothing(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}
