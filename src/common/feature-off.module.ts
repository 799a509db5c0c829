import { DynamicModule, HttpStatus, MiddlewareConsumer, Module, NestModule, type Provider, type Type } from '@nestjs/common';
import { SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants';
import type { NextFunction, Request, Response } from 'express';
import { AuthModule } from '../auth/auth.module';

export interface FeatureOff {
  /** The feature's name as the start-up line and the README call it. */
  feature: string;
  /** Why it is off here, naming the setting that turns it on. */
  reason: string;
  controllers: Type[];
}

/**
 * Mounts the controllers of a feature that is off in this process, so /docs documents every endpoint whatever is
 * switched on, and answers each of their routes with 503 and the setting that turns the feature on. The controllers
 * are never called: what they would inject is given as an empty stand-in, and the middleware answers first.
 */
export class FeatureOffModule {
  static register(off: FeatureOff): DynamicModule {
    @Module({})
    class FeatureOffHost implements NestModule {
      configure(consumer: MiddlewareConsumer): void {
        consumer.apply(answerOff(off)).forRoutes(...off.controllers);
      }
    }
    // The controllers' guards (@RequireScope) are built even though the middleware answers first: they get the real ones.
    return { module: FeatureOffHost, imports: [AuthModule], controllers: off.controllers, providers: off.controllers.flatMap(dependencyStandIns) };
  }
}

function answerOff(off: FeatureOff) {
  return (_request: Request, response: Response, _next: NextFunction): void => {
    response.status(HttpStatus.SERVICE_UNAVAILABLE).json({
      statusCode: HttpStatus.SERVICE_UNAVAILABLE,
      error: 'Service Unavailable',
      message: `${off.feature} is off: ${off.reason}`,
      feature: off.feature,
    });
  };
}

/** An empty value for every constructor dependency of a controller (class types and @Inject tokens alike). */
function dependencyStandIns(controller: Type): Provider[] {
  const types = (Reflect.getMetadata('design:paramtypes', controller) as unknown[] | undefined) ?? [];
  const declared = (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, controller) as { index: number; param: unknown }[] | undefined) ?? [];
  const tokens = types.map((type, index) => declared.find((dependency) => dependency.index === index)?.param ?? type);
  return tokens
    .filter(
      (token): token is Provider & (string | symbol | Type) => typeof token === 'function' || typeof token === 'string' || typeof token === 'symbol',
    )
    .map((token) => ({ provide: token as string | symbol | Type, useValue: {} }));
}
