import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * The last render of one dashboard panel, for GET /metrics/dashboards. A status record, not a claim: whoever rendered
 * last writes it, and a render that finishes later simply shows newer facts.
 */
@Schema({ collection: 'metrics_dashboard_panels', versionKey: false })
export class DashboardPanelState {
  /** `<dashboard>/<panel id>` */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true })
  dashboard!: string;

  @Prop({ type: String, required: true })
  panel!: string;

  @Prop({ type: String, required: true })
  key!: string;

  /** When the panel was last drawn (or found unchanged). */
  @Prop({ type: Date, required: true })
  renderedAt!: Date;

  /** When the stored picture last changed. */
  @Prop({ type: Date, required: true })
  updatedAt!: Date;

  @Prop({ type: String, default: null })
  etag!: string | null;

  @Prop({ type: Number, required: true })
  bytes!: number;

  /** The data source's failure when the panel shows "no data", else null. */
  @Prop({ type: String, default: null })
  error!: string | null;
}
export const DashboardPanelStateSchema = SchemaFactory.createForClass(DashboardPanelState);

/**
 * One term of the dashboard scheduler's lease: `_id` is the term number. A replica becomes the scheduler by inserting
 * term n+1 once term n has run out (an insert into the unique `_id`: exactly one replica wins on MongoDB and on
 * FerretDB alike); afterwards only that holder writes its own term (renewals).
 */
@Schema({ collection: 'metrics_scheduler_terms', versionKey: false })
export class SchedulerTerm {
  @Prop({ type: Number, required: true })
  _id!: number;

  @Prop({ type: String, required: true })
  holder!: string;

  @Prop({ type: Date, required: true })
  until!: Date;
}
export const SchedulerTermSchema = SchemaFactory.createForClass(SchedulerTerm);

export const DASHBOARD_MODELS = [
  { name: DashboardPanelState.name, schema: DashboardPanelStateSchema },
  { name: SchedulerTerm.name, schema: SchedulerTermSchema },
];
