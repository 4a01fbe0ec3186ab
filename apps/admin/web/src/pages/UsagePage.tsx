import { useState } from 'react';
import { api, type UsageDimension, type UsageFilter } from '../api';
import { LineChart } from '../LineChart';
import { ErrorNote, ListTable, PageHeader, useLoad } from '../ui';

const DIMENSIONS: { by: UsageDimension; label: string }[] = [
  { by: 'group', label: 'Group' },
  { by: 'user', label: 'User' },
  { by: 'model', label: 'Model' },
  { by: 'day', label: 'Day' },
];

const day = (d: Date) => d.toISOString().slice(0, 10);
const money = (v: number) => v.toFixed(2);

/**
 * Usage and cost from the usage history (never from conversations, so deleting them changes
 * nothing here): a chart per day and a table by the chosen dimension, with a CSV download.
 */
export function UsagePage() {
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
      <PageHeader title="Usage and cost">
        <a className="button" href={api.usageCsvUrl(filter)} download>
          Download CSV
        </a>
      </PageHeader>
      <section className="panel form-row" aria-label="Filters">
        <label>
          By
          <select value={by} onChange={(e) => setBy(e.target.value as UsageDimension)}>
            {DIMENSIONS.map((d) => (
              <option key={d.by} value={d.by}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <label>
          Group
          <select value={groupId} onChange={(e) => setGroupId(e.target.value)}>
            <option value="">All groups</option>
            {groups.data?.data.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Model
          <input
            value={model}
            placeholder="all models"
            onChange={(e) => setModel(e.target.value)}
          />
        </label>
      </section>
      <ErrorNote error={report.error ?? daily.error} />
      {days.length > 0 && (
        <div className="charts">
          <LineChart
            title={`Cost per day (${currency})`}
            times={days.map((d) => new Date(`${d.key}T00:00:00Z`))}
            format={money}
            summary={`${money(days.reduce((n, d) => n + d.cost, 0))} ${currency} over ${days.length} days`}
            series={[{ name: 'Cost', tone: 's2', values: days.map((d) => d.cost) }]}
          />
          <LineChart
            title="Tokens per day"
            times={days.map((d) => new Date(`${d.key}T00:00:00Z`))}
            format={(v) => (v >= 10_000 ? `${Math.round(v / 1000)}k` : String(Math.round(v)))}
            whole
            summary={`${days.reduce((n, d) => n + d.promptTokens + d.completionTokens, 0)} tokens`}
            series={[
              { name: 'Prompt', tone: 's1', values: days.map((d) => d.promptTokens) },
              { name: 'Completion', tone: 's3', values: days.map((d) => d.completionTokens) },
            ]}
          />
        </div>
      )}
      <section className="panel">
        <ListTable
          columns={[
            DIMENSIONS.find((d) => d.by === by)!.label,
            'Requests',
            'Prompt tokens',
            'Completion tokens',
            `Cost (${currency})`,
          ]}
          empty={report.data?.rows.length === 0 && 'No usage in this period.'}
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
