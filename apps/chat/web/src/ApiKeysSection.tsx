import { ConfirmDialog, useFormat } from '@enclave/web';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiKey, ApiFailure } from './api';
import { copyText } from './clipboard';

/** How long a new key lasts; the server reads `30d`-style durations (null: never expires). */
const EXPIRIES = ['30d', '90d', '365d', 'never'] as const;
type Expiry = (typeof EXPIRIES)[number];

function messageOf(err: unknown): string {
  return err instanceof ApiFailure ? err.message : String(err);
}

/** The person's own API keys: create one (its secret shown once), see them all, revoke one. */
export function ApiKeysSection() {
  const { t } = useTranslation();
  const format = useFormat();
  const date = (value: string | null) => (value ? format.date(value) : '—');
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [expiry, setExpiry] = useState<Expiry>('90d');
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  const load = useCallback(async () => {
    try {
      setKeys((await api.keys()).data);
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function create(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      const made = await api.createKey({
        name: name.trim(),
        expiresIn: expiry === 'never' ? null : expiry,
      });
      setCreated({ name: made.apiKey.name, key: made.key });
      setName('');
      await load();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  async function revoke(key: ApiKey) {
    setRevoking(null);
    setError(null);
    try {
      await api.revokeKey(key.prefix);
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  }

  const status = (k: ApiKey) =>
    k.revokedAt
      ? t('keys.revoked')
      : k.expiresAt && new Date(k.expiresAt) <= new Date()
        ? t('keys.expired')
        : t('keys.active');

  return (
    <section className="profile-section" aria-labelledby="keys-title">
      <h2 id="keys-title">{t('keys.title')}</h2>
      <p className="muted">{t('keys.intro')}</p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {created && (
        <div className="new-key notice" role="status">
          <p>
            <strong>{t('keys.createdTitle', { name: created.name })}</strong>{' '}
            {t('keys.createdOnce')}
          </p>
          <code className="secret" aria-label={t('keys.secret')}>
            {created.key}
          </code>
          <div className="row">
            <button
              type="button"
              className="small"
              onClick={async () => setCopied(await copyText(created.key))}
            >
              {copied ? t('copied') : t('keys.copy')}
            </button>
            <button type="button" className="quiet small" onClick={() => setCreated(null)}>
              {t('keys.done')}
            </button>
          </div>
        </div>
      )}
      <form className="key-form" onSubmit={create}>
        <label htmlFor="key-name">{t('keys.name')}</label>
        <input
          id="key-name"
          required
          maxLength={100}
          value={name}
          placeholder={t('keys.namePlaceholder')}
          onChange={(e) => setName(e.target.value)}
        />
        <label htmlFor="key-expiry">{t('keys.expiry')}</label>
        <select
          id="key-expiry"
          value={expiry}
          onChange={(e) => setExpiry(e.target.value as Expiry)}
        >
          {EXPIRIES.map((x) => (
            <option key={x} value={x}>
              {t(`keys.expiries.${x}`)}
            </option>
          ))}
        </select>
        <button type="submit" className="primary" disabled={busy || !name.trim()}>
          {t('keys.create')}
        </button>
      </form>
      {keys === null ? (
        <p className="page-status">{t('loading')}</p>
      ) : keys.length === 0 ? (
        <p className="empty">{t('keys.none')}</p>
      ) : (
        <div className="table-scroll">
          <table className="keys">
            <thead>
              <tr>
                <th scope="col">{t('keys.name')}</th>
                <th scope="col">{t('keys.prefix')}</th>
                <th scope="col">{t('keys.created')}</th>
                <th scope="col">{t('keys.lastUsed')}</th>
                <th scope="col">{t('keys.expires')}</th>
                <th scope="col">{t('keys.status')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('keys.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}</code>
                  </td>
                  <td>{date(k.createdAt)}</td>
                  <td>{date(k.lastUsedAt)}</td>
                  <td>{k.expiresAt ? date(k.expiresAt) : t('keys.never')}</td>
                  <td>{status(k)}</td>
                  <td>
                    {!k.revokedAt && (
                      <button
                        type="button"
                        className="quiet small"
                        aria-label={t('keys.revokeNamed', { name: k.name })}
                        onClick={() => setRevoking(k)}
                      >
                        {t('keys.revoke')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={revoking !== null}
        className="confirm"
        title={t('keys.revokeTitle', { name: revoking?.name ?? '' })}
        body={t('keys.revokeBody')}
        confirmLabel={t('keys.revoke')}
        onConfirm={() => revoking && void revoke(revoking)}
        onCancel={() => setRevoking(null)}
      />
    </section>
  );
}
