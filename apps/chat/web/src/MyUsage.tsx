import { useEffect, useId, useRef, useState } from 'react';
import { api, type MyUsage as Usage } from './api';

const tokens = (n: number) => n.toLocaleString();
const money = (n: number) => n.toFixed(2);

/**
 * The signed-in user's own usage of the last 30 days (requests, tokens, cost) by day and by
 * model, from the usage history: deleting conversations does not change it. A plain section,
 * so a page (a profile page) or the dialog below can hold it.
 */
export function MyUsage() {
  const [usage, setUsage] = useState<Usage | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .myUsage()
      .then(setUsage, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, []);

  if (error) return <p role="alert">{error}</p>;
  if (!usage) return <p>Loading…</p>;
  const total = usage.byModel.reduce(
    (t, r) => ({
      requests: t.requests + r.requests,
      tokens: t.tokens + r.promptTokens + r.completionTokens,
      cost: t.cost + r.cost,
    }),
    { requests: 0, tokens: 0, cost: 0 },
  );
  return (
    <section className="my-usage" aria-label="My usage">
      <p>
        From {usage.from} to {usage.to}: {total.requests.toLocaleString()} requests,{' '}
        {tokens(total.tokens)} tokens, {money(total.cost)} {usage.currency}.
      </p>
      <UsageTable title="By model" first="Model" rows={usage.byModel} currency={usage.currency} />
      <UsageTable title="By day" first="Day" rows={usage.byDay} currency={usage.currency} />
    </section>
  );
}

function UsageTable(props: {
  title: string;
  first: string;
  rows: Usage['byDay'];
  currency: string;
}) {
  if (!props.rows.length) return null;
  return (
    <table>
      <caption>{props.title}</caption>
      <thead>
        <tr>
          <th>{props.first}</th>
          <th>Requests</th>
          <th>Tokens</th>
          <th>Cost ({props.currency})</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr key={r.label}>
            <td>{r.label}</td>
            <td>{r.requests.toLocaleString()}</td>
            <td>{tokens(r.promptTokens + r.completionTokens)}</td>
            <td>{money(r.cost)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** MyUsage in a modal dialog (native <dialog>: Escape closes), opened from the top bar. */
export function MyUsageDialog(props: { onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      className="confirm my-usage-dialog"
      aria-labelledby={titleId}
      onClose={props.onClose}
    >
      <h2 id={titleId}>My usage</h2>
      <MyUsage />
      <div className="dialog-actions">
        <button type="button" className="quiet" onClick={props.onClose} autoFocus>
          Close
        </button>
      </div>
    </dialog>
  );
}
