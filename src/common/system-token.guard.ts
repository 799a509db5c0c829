import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, AppConfig } from '../config/config';
import { safeEqual } from './safe-equal';

/** Admits requests that carry `Authorization: Bearer <SYSTEM_TOKEN>`. */
@Injectable()
export class SystemTokenGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const header = request.headers.authorization;
    if (!header) throw new UnauthorizedException('Missing Authorization header: send "Authorization: Bearer <SYSTEM_TOKEN>"');
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match) throw new UnauthorizedException('Authorization header must use the Bearer scheme');
    if (!safeEqual(match[1], this.config.auth.systemToken)) throw new UnauthorizedException('Invalid bearer token');
    return true;
  }
}
