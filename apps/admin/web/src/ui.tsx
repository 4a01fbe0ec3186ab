import { ConfirmDialog, currentLanguage } from '@enclave/web';
import i18next from 'i18next';
import { type ReactNode, useCallback, useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiFailure } from './api';

/** What a failed call says to the reader. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiFailure) {
    return err.status === 403 ? i18next.t('notAllowed', { message: err.message }) : err.message;
  }
  return String(err);
}

/** An error line, announced to screen readers. */
export function ErrorNote(props: { error: string | null }) {
  if (!props.error) return null;
  return (
    <p className="form-error" role="alert">
      {props.error}
    </p>
  );
}

/**
 * Loads something and keeps it fresh: `reload()` after a change, `everyMs` for live pages. A
 * failed refresh keeps the last good value and shows the error.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(async () => {
    try {
      setData(await loadRef.current());
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);
  useEffect(() => {
    void reload();
    if (!everyMs) return;
    // A tab in the background does not poll; it catches up when shown again.
    const refresh = () => {
      if (!document.hidden) void reload();
    };
    const timer = setInterval(refresh, everyMs);
    document.addEventListener('visibilitychange', refresh);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', refresh);
    };
  }, [reload, everyMs, ...deps]);
  return { data, error, reload, setData };
}

/** A modal (the native <dialog>: focus stays inside, Escape closes). */
export function Dialog(props: { title: string; onClose(): void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} className="modal" aria-labelledby={titleId} onClose={props.onClose}>
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
    </dialog>
  );
}

/** A question with Cancel and a (dangerous) confirm button, shown while it is mounted. */
export function Confirm(props: {
  title: string;
  body: string;
  confirmLabel: string;
  onConfirm(): void;
  onCancel(): void;
}) {
  return <ConfirmDialog open className="modal" {...props} />;
}

/** A secret the server shows only now (a new API key, a generated password), with Copy. */
export function ShownOnce(props: {
  title: string;
  label: string;
  secret: string;
  onClose(): void;
}) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <p>{t('shownOnce')}</p>
      <label className="stack">
        {props.label}
        <input readOnly value={props.secret} onFocus={(e) => e.target.select()} className="mono" />
      </label>
      <div className="dialog-actions">
        <button
          type="button"
          onClick={() =>
            navigator.clipboard?.writeText(props.secret).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? t('copied') : t('copy')}
        </button>
        <button type="button" className="primary" onClick={props.onClose} autoFocus>
          {t('done')}
        </button>
      </div>
    </Dialog>
  );
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(currentLanguage(), { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A datetime-local field's value as an ISO time for the API, or undefined when empty. */
export function isoFromLocal(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** `a, b ,c` -> ['a','b','c']; empty -> null. */
export function listFromText(text: string): string[] | null {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length ? items : null;
}

/** A whole number from a field; empty -> null. */
export function numberOrNull(text: string): number | null {
  return text.trim() === '' ? null : Number(text);
}

export function PageHeader(props: { title: string; children?: ReactNode }) {
  return (
    <header className="page-head">
      <h1>{props.title}</h1>
      {props.children && <div className="page-actions">{props.children}</div>}
    </header>
  );
}

/**
 * A list as a table: a header cell a column, and with `actions` a last column for the rows'
 * buttons (its header is for screen readers only). `empty`, when given, stands instead of it.
 */
export function ListTable(props: {
  columns: string[];
  actions?: boolean;
  empty?: string | false;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  if (props.empty) return <p className="empty">{props.empty}</p>;
  return (
    <table>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th key={c}>{c}</th>
          ))}
          {props.actions && (
            <th>
              <span className="visually-hidden">{t('actions')}</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}
