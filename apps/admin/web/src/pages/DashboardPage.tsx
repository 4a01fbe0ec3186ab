import { useState } from 'react';
import { api, type Dashboard } from '../api';
import { LineChart } from '../LineChart';
import { ErrorNote, formatTime, PageHeader, useLoad } from '../ui';

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
  return (
    <>
      <dl className="tiles" aria-label={`Totals of the last ${d.minutes} minutes`}>
        <Tile label="Requests" value={count(t.requests)} />
        <Tile label="Errors" value={t.requests ? `${pct(rate(t.errors, t.requests)!)}` : '—'} />
        <Tile label="Cache hits" value={t.requests ? pct(rate(t.cacheHits, t.requests)!) : '—'} />
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
            { name: 'Requests', tone: 's1', values: d.series.map((s) => s.requests) },
            { name: 'Errors', tone: 's4', values: d.series.map((s) => s.errors) },
          ]}
        />
        <LineChart
          title="Latency"
          times={times}
          format={ms}
          minTop={100}
          summary={`p50 ${t.latencyP50Ms ?? '—'} ms, p95 ${t.latencyP95Ms ?? '—'} ms`}
          series={[
            { name: 'p50', tone: 's1', values: d.series.map((s) => s.latencyP50Ms) },
            { name: 'p95', tone: 's3', values: d.series.map((s) => s.latencyP95Ms) },
          ]}
        />
        <LineChart
          title="Time to first token"
          times={times}
          format={ms}
          minTop={100}
          summary={`p50 ${t.ttftP50Ms ?? '—'} ms, p95 ${t.ttftP95Ms ?? '—'} ms`}
          series={[
            { name: 'p50', tone: 's1', values: d.series.map((s) => s.ttftP50Ms) },
            { name: 'p95', tone: 's3', values: d.series.map((s) => s.ttftP95Ms) },
          ]}
        />
        <LineChart
          title="Tokens per minute"
          times={times}
          format={count}
          whole
          summary={`${t.promptTokens} prompt and ${t.completionTokens} completion tokens`}
          series={[
            { name: 'Prompt', tone: 's2', values: d.series.map((s) => s.promptTokens) },
            { name: 'Completion', tone: 's1', values: d.series.map((s) => s.completionTokens) },
          ]}
        />
        <LineChart
          title="Error and cache-hit rate"
          times={times}
          format={pct}
          minTop={10}
          summary={`errors ${t.requests ? pct(rate(t.errors, t.requests)!) : 'none'}, cache hits ${t.requests ? pct(rate(t.cacheHits, t.requests)!) : 'none'}`}
          series={[
            {
              name: 'Error rate',
              tone: 's4',
              values: d.series.map((s) => rate(s.errors, s.requests)),
            },
            {
              name: 'Cache-hit rate',
              tone: 's2',
              values: d.series.map((s) => rate(s.cacheHits, s.requests)),
            },
          ]}
        />
      </div>

      <section className="panel" aria-labelledby="backends-title">
        <h2 id="backends-title">Backends</h2>
        {d.backends.length === 0 ? (
          <p className="empty">No backends are configured.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>URL</th>
                <th>Health</th>
                <th>Last check</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
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
            </tbody>
          </table>
        )}
      </section>

      {d.replication.length > 0 && (
        <section className="panel" aria-labelledby="replication-title">
          <h2 id="replication-title">Database replication</h2>
          <table>
            <thead>
              <tr>
                <th>Standby</th>
                <th>Address</th>
                <th>State</th>
                <th>Sync</th>
                <th>Replay lag</th>
              </tr>
            </thead>
            <tbody>
              {d.replication.map((r) => (
                <tr key={`${r.name}-${r.clientAddr}`}>
                  <td>{r.name}</td>
                  <td className="mono">{r.clientAddr ?? '—'}</td>
                  <td>{r.state}</td>
                  <td>{r.syncState}</td>
                  <td>
                    {r.replayLagSeconds === null ? '—' : `${r.replayLagSeconds.toFixed(1)} s`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
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
 * Disabled, circuit open, healthy, down, or not checked yet by this instance: in words, not only
 * in colour.
 */
export function HealthBadge({
  b,
}: {
  b: { enabled: boolean; healthy: boolean | null; circuitOpen: boolean | null };
}) {
  const [cls, text] = !b.enabled
    ? ['off', 'Disabled']
    : b.healthy === null
      ? ['off', 'Not checked yet']
      : b.circuitOpen
        ? ['bad', 'Circuit open']
        : b.healthy
          ? ['good', 'Healthy']
          : ['bad', 'Down'];
  return <span className={`badge ${cls}`}>{text}</span>;
}
