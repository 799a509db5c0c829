/** One panel as the backend is told about it: where the picture is, or why it shows "no data". */
export interface DashboardPanelCallback {
  urn: string;
  url?: string;
  key: string;
  width: number;
  height: number;
  bytes: number;
  updatedAt: string;
  /** False when the picture is the same as last time: nothing was rewritten (its URL and ETag stay). */
  changed: boolean;
  error?: string;
}

/** "A dashboard was rendered": sent after every render of a configured dashboard (POST /metrics/image or its schedule). */
export interface DashboardCallback {
  event: 'dashboard.rendered';
  /** The same for every delivery attempt of one render. */
  idempotencyKey: string;
  dashboard: string;
  trigger: 'api' | 'schedule';
  renderedAt: string;
  panels: Record<string, DashboardPanelCallback>;
}
