import type { OpenAPIObject } from '@nestjs/swagger';
import { SCOPES_EXTENSION } from './require-scope.decorator';

/** Writes each protected operation's scopes into its description, where Swagger UI shows them. */
export function describeScopes(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const operation of [item.get, item.put, item.post, item.delete, item.patch]) {
      const scopes = (operation as Record<string, unknown> | undefined)?.[SCOPES_EXTENSION] as string[] | undefined;
      if (!operation || !scopes) continue;
      const line = `**Scope:** ${scopes.map((scope) => `\`${scope}\``).join(' or ')}`;
      operation.description = operation.description ? `${line}\n\n${operation.description}` : line;
    }
  }
  return document;
}
