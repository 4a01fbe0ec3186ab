import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '@enclave/config';

const VERSION = 1;

/**
 * Seals secrets stored in the database (upstream API keys) with AES-256-GCM under the master
 * key, so a database dump alone does not reveal them. Layout: version(1) | iv(12) | tag(16) | data.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the master key must be 32 bytes');
  }

  static fromConfig(config: Config): SecretBox {
    return new SecretBox(config.masterKey ?? localMasterKey(config.database.dataDir));
  }

  seal(plaintext: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), data]);
  }

  open(sealed: Buffer): string {
    if (sealed[0] !== VERSION) throw new Error('unknown sealed-secret version');
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 13));
    decipher.setAuthTag(sealed.subarray(13, 29));
    return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString('utf8');
  }
}

/** Without ENCLAVE_MASTER_KEY (a demo install), a key kept beside the embedded data. */
function localMasterKey(dataDir: string): Buffer {
  const dir = resolve(dataDir);
  const file = join(dir, 'master.key');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(file, 0o600);
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}
