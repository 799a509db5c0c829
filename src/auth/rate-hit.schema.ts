import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One admitted request of one client under one scope, kept for its rate-limit window. Counting inserts (instead of
 * `$inc` on a counter) keeps the limit exact on FerretDB v1 too, where `$inc` is a read then a write.
 */
@Schema({ collection: 'api_rate_hits', versionKey: false, bufferCommands: false })
export class RateHit {
  /** `<token name>:<scope>` */
  @Prop({ required: true })
  key!: string;

  /** Epoch milliseconds of the request. */
  @Prop({ required: true })
  at!: number;

  /** When the hit leaves every window; swept after that. */
  @Prop({ required: true })
  expiresAt!: Date;
}

export const RateHitSchema = SchemaFactory.createForClass(RateHit);
RateHitSchema.index({ key: 1, at: -1 });
RateHitSchema.index({ expiresAt: 1 });
