/** What a token may do. An endpoint names the scope(s) it needs; `read` opens the listing and state endpoints. */
export const SCOPES = ['notify', 'render', 'metrics', 'drone-admin', 'vk-admin', 'outbox-admin', 'read'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}
