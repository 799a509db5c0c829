import {
  applyDecorators,
  BadRequestException,
  type CanActivate,
  type ExecutionContext,
  Injectable,
  SetMetadata,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiConsumes } from '@nestjs/swagger';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { hasBody } from './routes';

/** The media types the JSON body parser reads (`src/app.ts`): plain JSON and its `+json` variants (merge-patch, ...). */
export const JSON_BODY_TYPES = ['application/json', 'application/*+json'];
const FORM = 'application/x-www-form-urlencoded';
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Answers 415 for a request body Herald would not read: one without a Content-Type, or of a type no parser takes
 * (`text/plain`, XML, ...), and JSON sent as an HTML form, which is what `curl -d '{...}'` does unless told
 * `-H 'Content-Type: application/json'`. Without this such a body reached validation as `{}` (or as one form field
 * named after the whole JSON text), and the client was told its fields were missing. A form body that is a form
 * (`message=hello`) is read here and refused by `FormBodyGuard` on every endpoint but those marked `@AcceptsForm()`.
 * Bodies an endpoint reads itself (the Drone webhook's raw bytes) are left alone.
 */
export function refuseUnreadBodies(): RequestHandler {
  return (request, response, next) => {
    if (!WITH_BODY.has(request.method) || !hasBody(request) || Buffer.isBuffer(request.body) || request.is(JSON_BODY_TYPES)) {
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

const ACCEPTS_FORM = 'herald:acceptsForm';

/**
 * The endpoint also reads an HTML form (`application/x-www-form-urlencoded`, e.g. `message=hello`), and its OpenAPI
 * entry says so. Only where a client Herald replaces posted forms: everywhere else a form is a 415.
 */
export const AcceptsForm = () => applyDecorators(ApiConsumes('application/json', FORM), SetMetadata(ACCEPTS_FORM, true));

/** Refuses a form body (415, naming the type and the endpoint) on an endpoint that does not say `@AcceptsForm()`. */
@Injectable()
export class FormBodyGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<Request>();
    if (typeof request.is(FORM) !== 'string' || Buffer.isBuffer(request.body)) return true;
    if (this.reflector.get<boolean | undefined>(ACCEPTS_FORM, context.getHandler())) return true;
    throw new UnsupportedMediaTypeException(
      `Content-Type ${FORM} is not read by ${request.method} ${request.path}: send the body as JSON with Content-Type: application/json`,
    );
  }
}
