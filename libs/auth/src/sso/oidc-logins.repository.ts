import { Injectable } from '@nestjs/common';
import { queryRows } from '@enclave/db';
import { DataSource } from 'typeorm';

export interface PendingOidcLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

/**
 * Sign-ins between the redirect to the provider and its callback, keyed by the SHA-256 of the
 * random token in the browser's cookie. A row is used once: taking it deletes it.
 */
@Injectable()
export class OidcLoginsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(bindingHash: Buffer, login: PendingOidcLogin, ttlSeconds: number): Promise<void> {
    // Abandoned sign-ins are cleared here rather than by a timer: no other process needs them.
    await this.dataSource.query('DELETE FROM oidc_logins WHERE expires_at < now()');
    await this.dataSource.query(
      `INSERT INTO oidc_logins (binding_hash, state, nonce, code_verifier, return_to, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
      [bindingHash, login.state, login.nonce, login.codeVerifier, login.returnTo, ttlSeconds],
    );
  }

  /** The pending sign-in for this cookie, deleted in the same statement; null when unknown or expired. */
  async take(bindingHash: Buffer): Promise<PendingOidcLogin | null> {
    const rows = await queryRows<PendingOidcLogin & { live: boolean }>(
      this.dataSource,
      `DELETE FROM oidc_logins WHERE binding_hash = $1
       RETURNING state, nonce, code_verifier AS "codeVerifier", return_to AS "returnTo",
                 expires_at > now() AS live`,
      [bindingHash],
    );
    const row = rows[0];
    if (!row?.live) return null;
    const { state, nonce, codeVerifier, returnTo } = row;
    return { state, nonce, codeVerifier, returnTo };
  }
}
