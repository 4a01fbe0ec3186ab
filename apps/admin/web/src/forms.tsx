import {
  type FormEvent,
  type InputHTMLAttributes,
  type ReactNode,
  useCallback,
  useId,
  useState,
} from 'react';
import { ErrorNote, messageOf } from './ui';

/**
 * A change the reader starts (a form, a row's button): `run(work)` clears the last error, is
 * `busy` while the work runs, then calls `after` (re-read the list) when it worked; a failure
 * shows as `error`. `submit(work)` is the same as a form's onSubmit.
 */
export function useAction(after?: () => Promise<unknown>) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async (work: () => Promise<unknown>) => {
      setBusy(true);
      setError(null);
      try {
        await work();
        await after?.();
      } catch (err) {
        setError(messageOf(err));
      } finally {
        setBusy(false);
      }
    },
    [after],
  );
  const submit = (work: () => Promise<unknown>) => (e: FormEvent) => {
    e.preventDefault();
    void run(work);
  };
  return { error, setError, busy, run, submit };
}

/** A form in a panel, named by its heading, with its submit button and error line last. */
export function FormPanel(props: {
  title: string;
  submitLabel: string;
  onSubmit(e: FormEvent): void;
  error: string | null;
  busy?: boolean;
  children: ReactNode;
}) {
  const titleId = useId();
  return (
    <form className="panel form-row" onSubmit={props.onSubmit} aria-labelledby={titleId}>
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
      <button type="submit" className="primary" disabled={props.busy}>
        {props.submitLabel}
      </button>
      <ErrorNote error={props.error} />
    </form>
  );
}

/** An input inside its label (the label text is its name); `onChange` gets the new text. */
export function Field({
  label,
  onChange,
  ...input
}: Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange' | 'value'> & {
  label: ReactNode;
  value: string;
  onChange(value: string): void;
}) {
  return (
    <label>
      {label}
      <input {...input} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
}

/** A person picked by email; the first option (`none`, value '') stands for no one picked. */
export function UserSelect(props: {
  users: { id: string; email: string }[];
  label: string;
  none: string;
  required?: boolean;
  value: string;
  onChange(id: string): void;
}) {
  return (
    <label>
      {props.label}
      <select
        required={props.required}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
      >
        <option value="">{props.none}</option>
        {props.users.map((u) => (
          <option key={u.id} value={u.id}>
            {u.email}
          </option>
        ))}
      </select>
    </label>
  );
}
