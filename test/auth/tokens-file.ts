import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface IssuedToken {
  name: string;
  token: string;
  scopes: string[];
}

/** A client's token as an operator would issue it: random, with only its SHA-256 written to the file. */
export function issue(name: string, scopes: string[]): IssuedToken {
  return { name, token: randomBytes(24).toString('base64url'), scopes };
}

/** API_TOKENS_FILE in a temporary directory, rewritten the way a deploy tool does (write aside, then rename). */
export class TokensFile {
  readonly path: string;

  constructor(tokens: IssuedToken[], extension = 'yaml') {
    this.path = path.join(mkdtempSync(path.join(tmpdir(), 'herald-tokens-')), `tokens.${extension}`);
    this.write(tokens);
  }

  write(tokens: IssuedToken[]): void {
    const lines = ['tokens:'];
    for (const { name, token, scopes } of tokens) {
      lines.push(`  - name: ${name}`, `    sha256: ${createHash('sha256').update(token).digest('hex')}`, `    scopes: [${scopes.join(', ')}]`);
    }
    this.writeRaw(`${lines.join('\n')}\n`);
  }

  writeRaw(text: string): void {
    const aside = `${this.path}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(aside, text);
    renameSync(aside, this.path);
  }
}
