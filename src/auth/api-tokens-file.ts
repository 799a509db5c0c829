// The API tokens file (API_TOKENS_FILE): named tokens, each stored as the SHA-256 of its value with the scopes it
// grants. YAML or JSON; every problem names the file and the field.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { z } from 'zod';
import { ConfigError, type AppConfig } from '../config/config';
import { SCOPES, type Scope } from './scopes';

/** The name SYSTEM_TOKEN is known by in logs and rate limits; a file may not take it. */
export const SYSTEM_TOKEN_NAME = 'system';

export interface ApiTokenEntry {
  /** The client's name: in the access log and the rate-limit key, never the token. Old and new tokens share it. */
  name: string;
  /** Lowercase hex SHA-256 of the token's UTF-8 bytes. */
  sha256: string;
  scopes: ReadonlySet<Scope>;
}

const tokenSchema = z.strictObject({
  name: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required (the client this token belongs to)' : 'must be a string') })
    .trim()
    .regex(/^[A-Za-z0-9][\w.:-]{0,63}$/, 'must be 1-64 letters, digits, "_", "-", "." or ":" starting with a letter or digit')
    .refine((value) => value !== SYSTEM_TOKEN_NAME, `"${SYSTEM_TOKEN_NAME}" is reserved for SYSTEM_TOKEN`),
  sha256: z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? 'is required (the hex SHA-256 of the token: printf %s "$TOKEN" | sha256sum)'
          : 'must be the 64 hex digits of the SHA-256 of the token (printf %s "$TOKEN" | sha256sum), as a string',
    })
    .trim()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be the 64 hex digits of the SHA-256 of the token (printf %s "$TOKEN" | sha256sum)')
    .transform((value) => value.toLowerCase()),
  scopes: z
    .array(z.enum(SCOPES, { error: `must be one of ${SCOPES.join(', ')}` }), { error: `must be a list of scopes (${SCOPES.join(', ')})` })
    .min(1, 'must name at least one scope'),
  /** Free text for people (who holds it, when it was issued); Herald ignores it. */
  note: z.string().optional(),
});

const fileSchema = z.strictObject({
  tokens: z.array(tokenSchema, { error: 'must be a list of tokens' }),
});

export class ApiTokensFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid API tokens file:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ApiTokensFileError';
  }
}

/** Parses the file's text; throws an ApiTokensFileError whose every problem starts with `<file>: <field>:`. */
export function parseApiTokensFile(text: string, file: string): ApiTokenEntry[] {
  let raw: unknown;
  try {
    raw = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : loadYaml(text);
  } catch (error) {
    throw new ApiTokensFileError([
      `${file}: (root): not valid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`,
    ]);
  }
  const parsed = fileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new ApiTokensFileError(parsed.error.issues.map((issue) => `${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  const seen = new Map<string, number>();
  const problems: string[] = [];
  parsed.data.tokens.forEach((token, index) => {
    const earlier = seen.get(token.sha256);
    if (earlier !== undefined)
      problems.push(`${file}: tokens.${index}.sha256: the same token as tokens.${earlier} (each token belongs to one entry)`);
    seen.set(token.sha256, index);
  });
  if (problems.length) throw new ApiTokensFileError(problems);
  return parsed.data.tokens.map((token) => ({ name: token.name, sha256: token.sha256, scopes: new Set(token.scopes) }));
}

export function readApiTokensFile(file: string): ApiTokenEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ApiTokensFileError([`${file}: cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  return parseApiTokensFile(text, file);
}

/**
 * A file listing no token, without SYSTEM_TOKEN, would leave every endpoint answering 401: refused like any other bad
 * file (start-up stops; a reload keeps the tokens in force).
 */
export function usableApiTokens(entries: ApiTokenEntry[], file: string, systemTokenSet: boolean): ApiTokenEntry[] {
  if (entries.length > 0 || systemTokenSet) return entries;
  throw new ApiTokensFileError([
    `${file}: tokens: lists no token and SYSTEM_TOKEN is not set, so every endpoint would answer 401; add at least one token`,
  ]);
}

/** The entries of API_TOKENS_FILE (none when unset) as start-up takes them; a problem is a ConfigError naming the setting. */
export function loadApiTokensFile(config: AppConfig): ApiTokenEntry[] {
  const { systemToken, tokensFile } = config.auth;
  if (!tokensFile) return [];
  try {
    return usableApiTokens(readApiTokensFile(tokensFile), tokensFile, Boolean(systemToken));
  } catch (error) {
    if (error instanceof ApiTokensFileError) throw new ConfigError(error.problems.map((problem) => `API_TOKENS_FILE: ${problem}`));
    throw error;
  }
}
