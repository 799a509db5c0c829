import { Module } from '@nestjs/common';
import { TelemetryController } from './telemetry.controller';

/** GET /metrics. Modules declare their own metrics through `telemetry` in telemetry.ts, on the one registry. */
@Module({ controllers: [TelemetryController] })
export class TelemetryModule {}
