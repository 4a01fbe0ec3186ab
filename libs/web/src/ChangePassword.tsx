import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiFailure, type AuthApi } from './api-client';

/**
 * Replaces the signed-in user's password (`POST /api/auth/password`). `required`: they signed in
 * with a one-time password, and nothing else works until they choose their own (no way out but
 * signing out); otherwise a Cancel button returns to the app.
 */
export function ChangePassword(props: {
  auth: AuthApi<unknown>;
  required: boolean;
  onChanged(): void;
  onCancel(): void;
}) {
  const { t } = useTranslation('web');
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (next !== repeat) {
      setError(t('password.differ'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await props.auth.changePassword(current, next);
      props.onChanged();
    } catch (err) {
      setError(err instanceof ApiFailure ? err.message : String(err));
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={submit} aria-labelledby="change-password-title">
        <h1 id="change-password-title">
          {props.required ? t('password.titleRequired') : t('password.title')}
        </h1>
        {props.required && <p className="notice">{t('password.requiredNotice')}</p>}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <label htmlFor="current-password">
          {props.required ? t('password.oneTime') : t('password.current')}
        </label>
        <input
          id="current-password"
          type="password"
          autoComplete="current-password"
          required
          autoFocus
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
        <label htmlFor="new-password">{t('password.new')}</label>
        <input
          id="new-password"
          type="password"
          autoComplete="new-password"
          required
          minLength={12}
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
        <label htmlFor="repeat-password">{t('password.repeat')}</label>
        <input
          id="repeat-password"
          type="password"
          autoComplete="new-password"
          required
          value={repeat}
          onChange={(e) => setRepeat(e.target.value)}
        />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('saving') : t('password.save')}
        </button>
        <button type="button" className="quiet" onClick={props.onCancel}>
          {props.required ? t('signOut') : t('cancel')}
        </button>
      </form>
    </main>
  );
}
