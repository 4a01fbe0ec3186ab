import { useFormat } from '@enclave/web';
import i18next from 'i18next';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type Dashboard, type MinuteStats } from '../api';
import { LineChart, type Series } from '../LineChart';
import { ErrorNote, formatTime, ListTable, PageHeader, useLoad } from '../ui';

/** How often the dashboard asks for fresh numbers. */
const REFRESH_MS = 5_000;

// Numbers in the chosen language (Intl via i18next's language): 12.5k / 12,5 k, 95 %, 1,2 s.
const lang = () => i18next.language;
const count = (v: number) =>
  new Intl.NumberFormat(lang(), {
    notation: v >= 10_000 ? 'compact' : 'standard',
    maximumFractionDigits: 0,
  }).format(v);
const ms = (v: number) =>
  v >= 10_000
    ? new Intl.NumberFormat(lang(), {
        style: 'unit',
        unit: 'second',
        maximumFractionDigits: 0,
      }).format(v / 1000)
    : new Intl.NumberFormat(lang(), {
        style: 'unit',
        unit: 'millisecond',
        maximumFractionDigits: 0,
        // "1500 ms", not "1,500 ms": the chart's axis has room for seven characters.
        useGrouping: false,
      }).format(v);
const pct = (v: number) =>
  new Intl.NumberFormat(lang(), { style: 'percent', maximumFractionDigits: 0 }).format(v / 100);
/** A share of requests in percent; no requests, no rate. */
const rate = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : null);

/** Live traffic, latency, tokens, backends and replication, refreshed every few seconds. */
export function DashboardPage() {
  const [minutes, setMinutes] = useState(60);
  const { data, error } = useLoad(() => api.dashboard(minutes), [minutes], REFRESH_MS);
  const { t } = useTranslation();

  return (
    <>
      <PageHeader title={t('nav.dashboard')}>
        <label>
          {t('dashboard.window')}{' '}
          <select value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
            <option value={15}>{t('dashboard.minutes', { count: 15 })}</option>
            <option value={60}>{t('dashboard.hours', { count: 1 })}</option>
            <option value={360}>{t('dashboard.hours', { count: 6 })}</option>
            <option value={1440}>{t('dashboard.hours', { count: 24 })}</option>
          </select>
        </label>
      </PageHeader>
      <ErrorNote error={error} />
      {!data ? (
        <p className="page-status" role="status">
          {t('loading')}
        </p>
      ) : (
        <DashboardView d={data} />
      )}
    </>
  );
}

function DashboardView({ d }: { d: Dashboard }) {
  const { t: tr } = useTranslation();
  useFormat(); // re-render the numbers when the language changes
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
      summary={tr('dashboard.percentiles', { p50: t[p50] ?? '—', p95: t[p95] ?? '—' })}
      series={[line('p50', 's1', (m) => m[p50]), line('p95', 's3', (m) => m[p95])]}
    />
  );
  return (
    <>
      <dl className="tiles" aria-label={tr('dashboard.totals', { count: d.minutes })}>
        <Tile label={tr('dashboard.requests')} value={count(t.requests)} />
        <Tile label={tr('dashboard.errors')} value={share(t.errors) ?? '—'} />
        <Tile label={tr('dashboard.cacheHits')} value={share(t.cacheHits) ?? '—'} />
        <Tile
          label={tr('dashboard.latencyP95')}
          value={t.latencyP95Ms === null ? '—' : ms(t.latencyP95Ms)}
        />
        <Tile
          label={tr('dashboard.ttftP95')}
          value={t.ttftP95Ms === null ? '—' : ms(t.ttftP95Ms)}
        />
        <Tile label={tr('dashboard.tokens')} value={count(totalTokens)} />
      </dl>
      <div className="charts">
        <LineChart
          title={tr('dashboard.requestsPerMinute')}
          times={times}
          format={count}
          whole
          summary={tr('dashboard.requestsSummary', {
            requests: tr('dashboard.requestCount', { count: t.requests }),
            errors: tr('dashboard.errorCount', { count: t.errors }),
            minutes: d.minutes,
            last: latest?.requests ?? 0,
          })}
          series={[
            line(tr('dashboard.requests'), 's1', (m) => m.requests),
            line(tr('dashboard.errors'), 's4', (m) => m.errors),
          ]}
        />
        {percentiles(tr('dashboard.latency'), 'latencyP50Ms', 'latencyP95Ms')}
        {percentiles(tr('dashboard.ttft'), 'ttftP50Ms', 'ttftP95Ms')}
        <LineChart
          title={tr('dashboard.tokensPerMinute')}
          times={times}
          format={count}
          whole
          summary={tr('dashboard.tokensSummary', {
            prompt: t.promptTokens,
            completion: t.completionTokens,
          })}
          series={[
            line(tr('dashboard.prompt'), 's2', (m) => m.promptTokens),
            line(tr('dashboard.completion'), 's1', (m) => m.completionTokens),
          ]}
        />
        <LineChart
          title={tr('dashboard.rates')}
          times={times}
          format={pct}
          minTop={10}
          summary={tr('dashboard.ratesSummary', {
            errors: share(t.errors) ?? tr('dashboard.noneYet'),
            hits: share(t.cacheHits) ?? tr('dashboard.noneYet'),
          })}
          series={[
            line(tr('dashboard.errorRate'), 's4', (m) => rate(m.errors, m.requests)),
            line(tr('dashboard.cacheHitRate'), 's2', (m) => rate(m.cacheHits, m.requests)),
          ]}
        />
      </div>

      <section className="panel" aria-labelledby="backends-title">
        <h2 id="backends-title">{tr('dashboard.backends')}</h2>
        <ListTable
          columns={[
            tr('dashboard.name'),
            'URL',
            tr('dashboard.health'),
            tr('dashboard.lastCheck'),
            tr('dashboard.lastError'),
          ]}
          empty={d.backends.length === 0 && tr('dashboard.noBackends')}
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
          <h2 id="replication-title">{tr('dashboard.replication')}</h2>
          <ListTable
            columns={[
              tr('dashboard.standby'),
              tr('dashboard.address'),
              tr('dashboard.state'),
              tr('dashboard.sync'),
              tr('dashboard.replayLag'),
            ]}
          >
            {d.replication.map((r) => (
              <tr key={`${r.name}-${r.clientAddr}`}>
                <td>{r.name}</td>
                <td className="mono">{r.clientAddr ?? '—'}</td>
                <td>{r.state}</td>
                <td>{r.syncState}</td>
                <td>
                  {r.replayLagSeconds === null
                    ? '—'
                    : new Intl.NumberFormat(lang(), {
                        style: 'unit',
                        unit: 'second',
                        maximumFractionDigits: 1,
                        minimumFractionDigits: 1,
                      }).format(r.replayLagSeconds)}
                </td>
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
  const { t } = useTranslation();
  const [cls, key] = !b.enabled
    ? ['off', 'disabled']
    : b.healthy === null
      ? ['off', 'unchecked']
      : b.circuitOpen
        ? ['bad', 'circuitOpen']
        : b.state === 'unhealthy'
          ? ['bad', 'failing']
          : b.state === 'degraded'
            ? ['warn', 'degraded']
            : b.healthy
              ? ['good', 'healthy']
              : ['bad', 'down'];
  return <span className={`badge ${cls}`}>{t(`health.${key}`)}</span>;
}
