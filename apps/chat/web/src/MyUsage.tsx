import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type MyUsage as Usage } from './api';

/**
 * The signed-in person's own usage of the last 30 days (requests, tokens, cost) by model and by
 * day, from the usage history: deleting conversations does not change it. A section of the
 * profile page.
 */
export function MyUsage() {
  const { t } = useTranslation();
  const [usage, setUsage] = useState<Usage | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .myUsage()
      .then(setUsage, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, []);

  const total = usage?.byModel.reduce(
    (n, r) => ({
      requests: n.requests + r.requests,
      tokens: n.tokens + r.promptTokens + r.completionTokens,
      cost: n.cost + r.cost,
    }),
    { requests: 0, tokens: 0, cost: 0 },
  );
  return (
    <section className="profile-section my-usage" aria-labelledby="usage-title">
      <h2 id="usage-title">{t('usage.title')}</h2>
      {error && <p role="alert">{error}</p>}
      {!usage && !error && <p>{t('usage.loading')}</p>}
      {usage && total && (
        <>
          <p>
            {t('usage.summary', {
              from: usage.from,
              to: usage.to,
              requests: total.requests,
              tokens: total.tokens,
              cost: total.cost.toFixed(2),
              currency: usage.currency,
            })}
          </p>
          <UsageTable
            caption={t('usage.byModel')}
            first={t('usage.model')}
            usage={usage}
            rows={usage.byModel}
          />
          <UsageTable
            caption={t('usage.byDay')}
            first={t('usage.day')}
            usage={usage}
            rows={usage.byDay}
          />
        </>
      )}
    </section>
  );
}

function UsageTable(props: { caption: string; first: string; usage: Usage; rows: Usage['byDay'] }) {
  const { t } = useTranslation();
  if (!props.rows.length) return null;
  return (
    <table>
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th>{props.first}</th>
          <th>{t('usage.requests')}</th>
          <th>{t('usage.tokens')}</th>
          <th>{t('usage.cost', { currency: props.usage.currency })}</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr key={r.label}>
            <td>{r.label}</td>
            <td>{r.requests.toLocaleString()}</td>
            <td>{(r.promptTokens + r.completionTokens).toLocaleString()}</td>
            <td>{r.cost.toFixed(2)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
