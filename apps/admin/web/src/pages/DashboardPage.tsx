import { useState } from 'react';
import { api, type Dashboard, type MinuteStats } from '../api';
import { LineChart, type Series } from '../LineChart';
import { ErrorNote, formatTime, ListTable, PageHeader, useLoad } from '../ui';

/** How often the dashboard asks for fresh numbers. */
const REFRESH_MS = 5_000;

const count = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : String(Math.round(v)));
const ms = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(0)} s` : `${Math.round(v)} ms`);
const pct = (v: number) => `${Math.round(v)}%`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
/** A share of requests in percent; no requests, no rate. */
const rate = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : null);

/** Live traffic, latency, tokens, backends and replication, refreshed every few seconds. */
export function DashboardPage() {
  const [minutes, setMinutes] = useState(60);
  const { data, error } = useLoad(() => api.dashboard(minutes), [minutes], REFRESH_MS);

  return (
    <>
      <PageHeader title="Dashboard">
        <label>
          Window{' '}
          <select value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
            <option value={15}>15 minutes</option>
            <option value={60}>1 hour</option>
            <option value={360}>6 hours</option>
            <option value={1440}>24 hours</option>
          </select>
        </label>
      </PageHeader>
      <ErrorNote error={error} />
      {!data ? (
        <p className="page-status" role="status">
          Loading…
        </p>
      ) : (
        <DashboardView d={data} />
      )}
    </>
  );
}

function DashboardView({ d }: { d: Dashboard }) {
  const times = d.series.map((s) => new Date(s.minute));
  const t = d.totals;
  const latest = d.series.at(-1);
  const totalTokens = t.promptTokens + t.completionTokens;
  /** A share of all requests in the window, in percent; none when there were no requests. */
  const share = (part: number) => (t.requests ? pct(rate(part, t.requests)!) : null);
  /** One line of a chart: a value a minute. */
  const line = (name: string, tone: Series['tone'], value: (m: MinuteStats) => number | null) => ({
    name,
    tone,
    values: d.series.map(value),
  });
  /** The median and 95th percentile of a duration, per minute. */
  const percentiles = (title: string, p50: keyof MinuteStats, p95: keyof MinuteStats) => (
    <LineChart
      title={title}
      times={times}
      format={ms}
      minTop={100}
      summary={`p50 ${t[p50] ?? '—'} ms, p95 ${t[p95] ?? '—'} ms`}
      series={[line('p50', 's1', (m) => m[p50]), line('p95', 's3', (m) => m[p95])]}
    />
  );
  return (
    <>
      <dl className="tiles" aria-label={`Totals of the last ${d.minutes} minutes`}>
        <Tile label="Requests" value={count(t.requests)} />
        <Tile label="Errors" value={share(t.errors) ?? '—'} />
        <Tile label="Cache hits" value={share(t.cacheHits) ?? '—'} />
        <Tile label="Latency p95" value={t.latencyP95Ms === null ? '—' : ms(t.latencyP95Ms)} />
        <Tile label="First token p95" value={t.ttftP95Ms === null ? '—' : ms(t.ttftP95Ms)} />
        <Tile label="Tokens" value={count(totalTokens)} />
      </dl>
      <div className="charts">
        <LineChart
          title="Requests per minute"
          times={times}
          format={count}
          whole
          summary={`${plural(t.requests, 'request')}, ${plural(t.errors, 'error')} in ${d.minutes} minutes; ${latest?.requests ?? 0} in the last minute`}
          series={[
            line('Requests', 's1', (m) => m.requests),
            line('Errors', 's4', (m) => m.errors),
          ]}
        />
        {percentiles('Latency', 'latencyP50Ms', 'latencyP95Ms')}
        {percentiles('Time to first token', 'ttftP50Ms', 'ttftP95Ms')}
        <LineChart
          title="Tokens per minute"
          times={times}
          format={count}
          whole
          summary={`${t.promptTokens} prompt and ${t.completionTokens} completion tokens`}
          series={[
            line('Prompt', 's2', (m) => m.promptTokens),
            line('Completion', 's1', (m) => m.completionTokens),
          ]}
        />
        <LineChart
          title="Error and cache-hit rate"
          times={times}
          format={pct}
          minTop={10}
          summary={`errors ${share(t.errors) ?? 'none'}, cache hits ${share(t.cacheHits) ?? 'none'}`}
          series={[
            line('Error rate', 's4', (m) => rate(m.errors, m.requests)),
            line('Cache-hit rate', 's2', (m) => rate(m.cacheHits, m.requests)),
          ]}
        />
      </div>

      <section className="panel" aria-labelledby="backends-title">
        <h2 id="backends-title">Backends</h2>
        <ListTable
          columns={['Name', 'URL', 'Health', 'Last check', 'Last error']}
          empty={d.backends.length === 0 && 'No backends are configured.'}
        >
          {d.backends.map((b) => (
            <tr key={b.name}>
              <td>{b.name}</td>
              <td className="mono">{b.baseUrl}</td>
              <td>
                <HealthBadge b={b} />
              </td>
              <td className="time">{formatTime(b.lastCheckedAt)}</td>
              <td>{b.lastError ?? '—'}</td>
            </tr>
          ))}
        </ListTable>
      </section>

      {d.replication.length > 0 && (
        <section className="panel" aria-labelledby="replication-title">
          <h2 id="replication-title">Database replication</h2>
          <ListTable columns={['Standby', 'Address', 'State', 'Sync', 'Replay lag']}>
            {d.replication.map((r) => (
              <tr key={`${r.name}-${r.clientAddr}`}>
                <td>{r.name}</td>
                <td className="mono">{r.clientAddr ?? '—'}</td>
                <td>{r.state}</td>
                <td>{r.syncState}</td>
                <td>{r.replayLagSeconds === null ? '—' : `${r.replayLagSeconds.toFixed(1)} s`}</td>
              </tr>
            ))}
          </ListTable>
        </section>
      )}
    </>
  );
}

function Tile(props: { label: string; value: string }) {
  return (
    <div className="tile">
      <dt>{props.label}</dt>
      <dd>{props.value}</dd>
    </div>
  );
}

/**
 * Disabled, circuit open, failing real requests, degraded, healthy, down, or not checked yet: in
 * words, not only in colour.
 */
export function HealthBadge({
  b,
}: {
  b: {
    enabled: boolean;
    healthy: boolean | null;
    circuitOpen: boolean | null;
    state?: 'healthy' | 'degraded' | 'unhealthy' | null;
  };
}) {
  const [cls, text] = !b.enabled
    ? ['off', 'Disabled']
    : b.healthy === null
      ? ['off', 'Not checked yet']
      : b.circuitOpen
        ? ['bad', 'Circuit open']
        : b.state === 'unhealthy'
          ? ['bad', 'Failing requests']
          : b.state === 'degraded'
            ? ['warn', 'Degraded']
            : b.healthy
              ? ['good', 'Healthy']
              : ['bad', 'Down'];
  return <span className={`badge ${cls}`}>{text}</span>;
}
