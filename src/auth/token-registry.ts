import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { APP_CONFIG, AppConfig } from '../config/config';
import { safeEqual } from '../common/safe-equal';
import { telemetry } from '../telemetry/telemetry';
import { ApiTokensFileError, loadApiTokensFile, readApiTokensFile, SYSTEM_TOKEN_NAME, usableApiTokens, type ApiTokenEntry } from './api-tokens-file';
import { SCOPES, type Scope } from './scopes';

/** Who called: the token's name and what it may do. Never the token. */
export interface ApiClient {
  name: string;
  scopes: ReadonlySet<Scope>;
}

const reloads = telemetry.counter('herald_api_token_reloads_total', 'Re-reads of API_TOKENS_FILE (on change or SIGHUP) by outcome', ['outcome']);

export const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

/**
 * The tokens Herald accepts: SYSTEM_TOKEN (every scope, named "system") and the entries of API_TOKENS_FILE.
 * The file is read at start-up (a bad file stops start-up) and again whenever it changes or the process gets
 * SIGHUP; a bad file then is logged and the tokens in force stay as they were.
 */
@Injectable()
export class TokenRegistry implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(TokenRegistry.name);
  private readonly systemEntry: ApiTokenEntry | undefined;
  private fileEntries: ApiTokenEntry[] = [];
  private readonly onSighup = () => void this.reload('SIGHUP');
  private readonly onFileChange = (current: Stats, previous: Stats) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) void this.reload('file changed');
  };

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const { systemToken } = config.auth;
    this.systemEntry = systemToken ? { name: SYSTEM_TOKEN_NAME, sha256: sha256Hex(systemToken), scopes: new Set(SCOPES) } : undefined;
    // Checked before MongoDB was waited for (AuthModule.checkFiles); read again here, the file may have changed since.
    this.fileEntries = loadApiTokensFile(config);
  }

  onModuleInit(): void {
    const file = this.config.auth.tokensFile;
    this.logger.log({ tokens: this.names(), file: file ?? null }, 'API tokens in force');
    if (!file) return;
    // Polling the file's stat follows a Kubernetes ConfigMap's symlink swap, which an inotify watch on the old inode misses.
    watchFile(file, { interval: this.config.auth.tokensPollIntervalMs, persistent: false }, this.onFileChange);
    process.on('SIGHUP', this.onSighup);
  }

  onModuleDestroy(): void {
    const file = this.config.auth.tokensFile;
    if (!file) return;
    unwatchFile(file, this.onFileChange);
    process.off('SIGHUP', this.onSighup);
  }

  /** The client a bearer token belongs to, or undefined. Every entry is compared, in constant time each. */
  authenticate(token: string): ApiClient | undefined {
    const digest = sha256Hex(token);
    let found: ApiTokenEntry | undefined;
    for (const entry of this.entries()) {
      if (safeEqual(digest, entry.sha256) && !found) found = entry;
    }
    return found && { name: found.name, scopes: found.scopes };
  }

  /** Reads API_TOKENS_FILE again; on a bad file keeps the tokens in force. Answers whether the new set was taken. */
  reload(reason: string): boolean {
    const file = this.config.auth.tokensFile;
    if (!file) return false;
    try {
      const before = new Set(this.fileEntries.map((entry) => entry.sha256));
      const next = usableApiTokens(readApiTokensFile(file), file, this.systemEntry !== undefined);
      const after = new Set(next.map((entry) => entry.sha256));
      this.fileEntries = next;
      reloads.inc({ outcome: 'loaded' });
      this.logger.log(
        {
          reason,
          file,
          tokens: this.names(),
          added: next.filter((entry) => !before.has(entry.sha256)).length,
          removed: [...before].filter((sha) => !after.has(sha)).length,
        },
        'API tokens reloaded',
      );
      return true;
    } catch (error) {
      const problems = error instanceof ApiTokensFileError ? error.problems : [String(error)];
      reloads.inc({ outcome: 'invalid' });
      this.logger.error({ reason, file, problems }, 'API tokens file is invalid; the tokens in force are kept');
      return false;
    }
  }

  private entries(): ApiTokenEntry[] {
    return this.systemEntry ? [this.systemEntry, ...this.fileEntries] : this.fileEntries;
  }

  /** Each client name with how many tokens it has (two during a rotation). */
  private names(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const entry of this.entries()) counts[entry.name] = (counts[entry.name] ?? 0) + 1;
    return counts;
  }
}
