import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type UsageDimension, type UsageFilter } from '../api';
import { LineChart } from '../LineChart';
import { ErrorNote, ListTable, PageHeader, useLoad } from '../ui';

const DIMENSIONS: UsageDimension[] = ['group', 'user', 'model', 'day'];

const day = (d: Date) => d.toISOString().slice(0, 10);
const money = (v: number) => v.toFixed(2);

/**
 * Usage and cost from the usage history (never from conversations, so deleting them changes
 * nothing here): a chart per day and a table by the chosen dimension, with a CSV download.
 */
export function UsagePage() {
  const { t } = useTranslation();
  const [by, setBy] = useState<UsageDimension>('group');
  const [from, setFrom] = useState(day(new Date(Date.now() - 29 * 86_400_000)));
  const [to, setTo] = useState(day(new Date()));
  const [groupId, setGroupId] = useState('');
  const [model, setModel] = useState('');
  const groups = useLoad(() => api.groups(), []);
  const filter: UsageFilter = {
    by,
    from,
    to,
    groupId: groupId || undefined,
    model: model.trim() || undefined,
  };
  const key = JSON.stringify(filter);
  const report = useLoad(() => api.usageReport(filter), [key]);
  const daily = useLoad(() => api.usageReport({ ...filter, by: 'day' }), [key]);
  const currency = report.data?.currency ?? '';

  const days = daily.data?.rows ?? [];
  return (
    <>
      <PageHeader title={t('teams.usage.title')}>
        <a className="button" href={api.usageCsvUrl(filter)} download>
          {t('teams.usage.csv')}
        </a>
      </PageHeader>
      <section className="panel form-row" aria-label={t('teams.usage.filters')}>
        <label>
          {t('teams.usage.by')}
          <select value={by} onChange={(e) => setBy(e.target.value as UsageDimension)}>
            {DIMENSIONS.map((d) => (
              <option key={d} value={d}>
                {t(`teams.usage.dim.${d}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('teams.usage.from')}
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          {t('teams.usage.to')}
          <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <label>
          {t('teams.usage.group')}
          <select value={groupId} onChange={(e) => setGroupId(e.target.value)}>
            <option value="">{t('teams.usage.allGroups')}</option>
            {groups.data?.data.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('teams.usage.model')}
          <input
            value={model}
            placeholder={t('teams.usage.allModels')}
            onChange={(e) => setModel(e.target.value)}
          />
        </label>
      </section>
      <ErrorNote error={report.error ?? daily.error} />
      {days.length > 0 && (
        <div className="charts">
          <LineChart
            title={t('teams.usage.costChart', { currency })}
            times={days.map((d) => new Date(`${d.key}T00:00:00Z`))}
            format={money}
            summary={t('teams.usage.costSummary', {
              cost: money(days.reduce((n, d) => n + d.cost, 0)),
              currency,
              days: days.length,
            })}
            series={[{ name: t('teams.usage.cost'), tone: 's2', values: days.map((d) => d.cost) }]}
          />
          <LineChart
            title={t('teams.usage.tokensChart')}
            times={days.map((d) => new Date(`${d.key}T00:00:00Z`))}
            format={(v) => (v >= 10_000 ? `${Math.round(v / 1000)}k` : String(Math.round(v)))}
            whole
            summary={t('teams.usage.tokensSummary', {
              tokens: days.reduce((n, d) => n + d.promptTokens + d.completionTokens, 0),
            })}
            series={[
              {
                name: t('teams.usage.prompt'),
                tone: 's1',
                values: days.map((d) => d.promptTokens),
              },
              {
                name: t('teams.usage.completion'),
                tone: 's3',
                values: days.map((d) => d.completionTokens),
              },
            ]}
          />
        </div>
      )}
      <section className="panel">
        <ListTable
          columns={[
            t(`teams.usage.dim.${by}`),
            t('teams.usage.requests'),
            t('teams.usage.promptTokens'),
            t('teams.usage.completionTokens'),
            t('teams.usage.costColumn', { currency }),
          ]}
          empty={report.data?.rows.length === 0 && t('teams.usage.empty')}
        >
          {report.data?.rows.map((r) => (
            <tr key={r.key ?? 'none'}>
              <td>{r.label}</td>
              <td>{r.requests.toLocaleString()}</td>
              <td>{r.promptTokens.toLocaleString()}</td>
              <td>{r.completionTokens.toLocaleString()}</td>
              <td>{money(r.cost)}</td>
            </tr>
          ))}
        </ListTable>
      </section>
    </>
  );
}
