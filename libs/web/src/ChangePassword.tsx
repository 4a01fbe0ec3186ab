import { type FormEvent, useState } from 'react';
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
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (next !== repeat) {
      setError('The two new passwords differ.');
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
          {props.required ? 'Choose your own password' : 'Change your password'}
        </h1>
        {props.required && (
          <p className="notice">
            You signed in with a one-time password. Choose your own to continue: a few unrelated
            words make a strong one.
          </p>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <label htmlFor="current-password">
          {props.required ? 'One-time password' : 'Current password'}
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
        <label htmlFor="new-password">New password</label>
        <input
          id="new-password"
          type="password"
          autoComplete="new-password"
          required
          minLength={12}
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
        <label htmlFor="repeat-password">Repeat the new password</label>
        <input
          id="repeat-password"
          type="password"
          autoComplete="new-password"
          required
          value={repeat}
          onChange={(e) => setRepeat(e.target.value)}
        />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save the new password'}
        </button>
        <button type="button" className="quiet" onClick={props.onCancel}>
          {props.required ? 'Sign out' : 'Cancel'}
        </button>
      </form>
    </main>
  );
}
