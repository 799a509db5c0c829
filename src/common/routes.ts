import { NotFoundException, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, type ModulesContainer } from '@nestjs/core';
import type { Request, RequestHandler } from 'express';
import { match, type MatchFunction } from 'path-to-regexp';

interface ServedPath {
  matches: MatchFunction<object>;
  methods: Set<string>;
}

/**
 * Which methods each path takes, read from the controllers Nest mounted (their `@Controller` and `@Get`/`@Post`/...
 * metadata, the same Nest's router explorer maps), so a new endpoint needs no entry here. (Express's router cannot
 * tell: Nest mounts middleware bound to routes as routes that take every method.) Paths are matched as Express
 * matches them: case-insensitive, with an optional trailing slash. Swagger's /docs pages are not controllers.
 */
export class RouteTable {
  private served?: ServedPath[];

  constructor(private readonly modules: () => ModulesContainer) {}

  /** The methods `path` takes (GET brings HEAD, as Express answers HEAD with the GET route); empty when none does. */
  methodsFor(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes()) {
      if (route.matches(path)) route.methods.forEach((method) => methods.add(method));
    }
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods];
  }

  private routes(): ServedPath[] {
    if (this.served) return this.served;
    const byPath = new Map<string, Set<string>>();
    const scanner = new MetadataScanner();
    for (const module of this.modules().values()) {
      for (const { metatype } of module.controllers.values()) {
        if (typeof metatype !== 'function') continue;
        const prototype = metatype.prototype as Record<string, unknown>;
        for (const name of scanner.getAllMethodNames(prototype)) {
          const handler = prototype[name] as object;
          const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
          if (method === undefined) continue;
          for (const base of paths(Reflect.getMetadata(PATH_METADATA, metatype))) {
            for (const own of paths(Reflect.getMetadata(PATH_METADATA, handler))) {
              const path = `/${[base, own]
                .map((part) => part.replace(/^\/+|\/+$/g, ''))
                .filter(Boolean)
                .join('/')}`;
              const methods = byPath.get(path) ?? byPath.set(path, new Set()).get(path)!;
              methods.add(RequestMethod[method]);
            }
          }
        }
      }
    }
    this.served = [...byPath].map(([path, methods]) => ({
      matches: match(path, { sensitive: false, end: true, trailing: true, decode: false }),
      methods,
    }));
    return this.served;
  }
}

function paths(metadata: unknown): string[] {
  if (Array.isArray(metadata)) return metadata.map(String);
  return typeof metadata === 'string' ? [metadata] : [''];
}

/** Nest's own 404 for a request no route took ("Cannot POST /x"), raised here before anything reads the body. */
export function noRouteFor(request: Request): NotFoundException {
  return new NotFoundException(`Cannot ${request.method} ${request.originalUrl}`);
}

/**
 * Answers a request whose method and path no endpoint takes before any body parser runs: a path nothing serves is a
 * 404 and a method its path does not take a 405, whatever the body is (a form to `POST /` was refused with 415,
 * JSON that did not parse with 400). Only requests with a body: the rest reach Nest's router, whose 404 the exception
 * filter answers the same way (Swagger UI's files are served by middleware, not routes).
 */
export function answerUnroutedBodies(routes: RouteTable): RequestHandler {
  return (request, _response, next) => {
    if (!hasBody(request)) return next();
    const methods = routes.methodsFor(request.path);
    next(methods.includes(request.method) || methods.includes('ALL') ? undefined : noRouteFor(request));
  };
}

/** A body is on its way: a length over zero, or chunks (whose length is unknown until read). */
export function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return length !== undefined ? Number(length) > 0 : request.headers['transfer-encoding'] !== undefined;
}
