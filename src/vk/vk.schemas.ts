import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One document per holding of a community's poller lease, `_id` = `<groupId>:<number>`, the number being the latest
 * holding + 1. Inserting it is what makes taking the lease exclusive, on MongoDB and on FerretDB v1 alike (an insert
 * into the unique `_id`); afterwards only its holder writes it (renewal, `ts`, release), so no two writers race on one
 * document. The next holder starts from the `ts` its predecessor saved.
 */
@Schema({ collection: 'vk_poller_leases', versionKey: false })
export class VkPollerLease {
  @Prop({ type: String, required: true })
  _id!: string;

  /** The community id. */
  @Prop({ type: Number, required: true })
  groupId!: number;

  @Prop({ type: Number, required: true })
  number!: number;

  @Prop({ type: String, required: true })
  holder!: string;

  /** The lease runs out at this time unless renewed; another replica may then take the next number. */
  @Prop({ type: Date, required: true })
  until!: Date;

  @Prop({ type: Boolean, required: true, default: false })
  released!: boolean;

  /** The long-poll `ts` to continue from; null before the first poll. */
  @Prop({ type: String, default: null })
  ts!: string | null;

  @Prop({ type: Date, default: null })
  tsSavedAt!: Date | null;
}
export const VkPollerLeaseSchema = SchemaFactory.createForClass(VkPollerLease);
VkPollerLeaseSchema.index({ groupId: 1, number: -1 }, { name: 'vk_lease_latest' });
