import { currentLanguage } from '@enclave/web';
import i18next from 'i18next';
import { type FormEvent, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { isUuid } from '@enclave/contracts';
import { api, type AuditExport, type AuditFilter, type AuditVerificationJob } from '../api';
import type { PageProps } from '../App';
import { Field, useAction } from '../forms';
import { ErrorNote, formatTime, isoFromLocal, ListTable, PageHeader, useLoad } from '../ui';
import { LegalHolds } from './LegalHolds';
import { LoadMore, usePaged } from './paging';

/** While an export is being written or the chain verified, its status is re-read this often. */
const JOB_POLL_MS = 1_500;

/** An actor or target as one line: its label, else type and id. */
function describe(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v !== 'object') return String(v);
  const o = v as Record<string, unknown>;
  const label = o.label ?? o.email;
  const kind = o.type ?? '';
  if (typeof label === 'string' && label) return kind ? `${label} (${String(kind)})` : label;
  return [kind, o.id].filter((x) => x !== null && x !== undefined && x !== '').join(' ') || '—';
}

interface FilterDraft {
  from: string;
  to: string;
  actor: string;
  action: string;
}

const EMPTY: FilterDraft = { from: '', to: '', actor: '', action: '' };

function toFilter(d: FilterDraft): AuditFilter {
  return {
    from: isoFromLocal(d.from),
    to: isoFromLocal(d.to),
    actor: d.actor.trim() || undefined,
    action: d.action.trim() || undefined,
  };
}

/** The audit trail: chain status and verification, event search, and exports. */
export function AuditPage({ me }: PageProps) {
  const [draft, setDraft] = useState<FilterDraft>(EMPTY);
  const [filter, setFilter] = useState<AuditFilter>({});
  const events = usePaged((before) => api.auditEvents(filter, before), [JSON.stringify(filter)]);
  const set = (k: keyof FilterDraft) => (value: string) => setDraft({ ...draft, [k]: value });
  const { t } = useTranslation();

  return (
    <>
      <PageHeader title={t('nav.audit')} />
      <ChainStatus />
      <Exports filter={draft} />
      <LegalHolds me={me} />
      <section className="panel" aria-labelledby="events-title">
        <h2 id="events-title">{t('audit.events')}</h2>
        <form
          className="form-row"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setFilter(toFilter(draft));
          }}
        >
          <Field
            label={t('audit.from')}
            type="datetime-local"
            value={draft.from}
            onChange={set('from')}
          />
          <Field
            label={t('audit.to')}
            type="datetime-local"
            value={draft.to}
            onChange={set('to')}
          />
          <Field
            label={t('audit.actor')}
            value={draft.actor}
            placeholder={t('audit.actorPlaceholder')}
            onChange={set('actor')}
          />
          <Field
            label={t('audit.action')}
            value={draft.action}
            placeholder="auth.* or admin.user.created"
            onChange={set('action')}
          />
          <button type="submit">{t('audit.search')}</button>
        </form>
        <ErrorNote error={events.error} />
        <ListTable
          columns={[
            t('audit.position'),
            t('feedback.when'),
            t('audit.actor'),
            t('audit.action'),
            t('audit.target'),
            t('audit.outcome'),
            t('audit.payload'),
          ]}
          empty={events.empty && t('audit.none')}
        >
          {events.items.map((e) => (
            <tr key={e.id}>
              <td className="mono">
                {e.position ?? <span className="badge off">{t('audit.unsealed')}</span>}
              </td>
              <td className="time">{formatTime(e.occurredAt)}</td>
              <td>{describe(e.actor)}</td>
              <td className="mono">{e.action}</td>
              <td>{describe(e.target)}</td>
              <td>
                <span className={`badge ${e.outcome === 'success' ? 'good' : 'bad'}`}>
                  {e.outcome}
                </span>
              </td>
              <td>
                {e.redacted ? (
                  <span className="badge off">{t('audit.redacted')}</span>
                ) : (
                  <details>
                    <summary>{t('audit.show')}</summary>
                    {(e.sourceIp || e.requestId) && (
                      <p className="muted">
                        {e.sourceIp && t('audit.fromIp', { ip: e.sourceIp })}
                        {e.sourceIp && e.requestId && ' · '}
                        {e.requestId && t('audit.request', { id: e.requestId })}
                      </p>
                    )}
                    <pre className="payload">{JSON.stringify(e.payload, null, 2)}</pre>
                  </details>
                )}
              </td>
            </tr>
          ))}
        </ListTable>
        <LoadMore list={events} />
      </section>
    </>
  );
}

function ChainStatus() {
  const status = useLoad(() => api.auditStatus(), [], 10_000);
  const verifications = useLoad(() => api.verifications(), []);
  const { error, busy: asking, run } = useAction(verifications.reload);
  const s = status.data;
  const latest = verifications.data?.data[0] ?? null;
  const { t } = useTranslation();
  const n = (v: number) => v.toLocaleString(currentLanguage());
  const open = latest !== null && (latest.status === 'pending' || latest.status === 'running');

  const reload = verifications.reload;
  useEffect(() => {
    if (!open) return;
    const timer = setInterval(() => void reload(), JOB_POLL_MS);
    return () => clearInterval(timer);
  }, [open, reload]);

  return (
    <section className="panel" aria-labelledby="chain-title">
      <h2 id="chain-title">{t('audit.chain')}</h2>
      <ErrorNote error={error ?? status.error ?? verifications.error} />
      {s && (
        <dl className="facts">
          <dt>{t('audit.sealed')}</dt>
          <dd>{n(s.sealedEvents)}</dd>
          <dt>{t('audit.waiting')}</dt>
          <dd>
            {n(s.unsealedEvents)}
            {s.oldestUnsealedSeconds !== null &&
              s.unsealedEvents > 0 &&
              ` ${t('audit.oldest', { seconds: Math.round(s.oldestUnsealedSeconds) })}`}
          </dd>
          <dt>{t('audit.head')}</dt>
          <dd className="mono">
            {s.head ? `#${s.head.position} ${s.head.hash.slice(0, 16)}…` : t('audit.emptyChain')}
          </dd>
          <dt>{t('audit.lastCheckpoint')}</dt>
          <dd className="mono">
            {s.lastCheckpoint
              ? t('audit.checkpointAt', {
                  position: s.lastCheckpoint.position,
                  when: formatTime(s.lastCheckpoint.signedAt),
                })
              : t('audit.noneYet')}
          </dd>
        </dl>
      )}
      <button
        type="button"
        onClick={() => void run(() => api.requestVerification())}
        disabled={asking || open}
      >
        {open ? t('audit.verifying') : t('audit.verify')}
      </button>
      {latest && <VerificationNote job={latest} />}
    </section>
  );
}

/** The latest verification: waiting for the audit app, its progress, or its verdict. */
function VerificationNote({ job }: { job: AuditVerificationJob }) {
  const { t } = useTranslation();
  const n = (v: number) => v.toLocaleString(currentLanguage());
  const asked = t('audit.asked', { who: job.createdBy, when: formatTime(job.createdAt) });
  if (job.status === 'pending') {
    return (
      <p className="notice" role="status">
        {t('audit.pending', { asked })}
      </p>
    );
  }
  if (job.status === 'running') {
    return (
      <p className="notice" role="status">
        {t('audit.running', { count: job.positionsChecked, n: n(job.positionsChecked), asked })}
      </p>
    );
  }
  if (job.status === 'failed' || !job.verdict) {
    return (
      <p className="form-error" role="status">
        {t('audit.failed', { error: job.error ?? t('audit.unknownError') })}
      </p>
    );
  }
  const v = job.verdict;
  const when = job.finishedAt
    ? ` ${t('audit.finished', { when: formatTime(job.finishedAt) })}`
    : '';
  const where =
    v.firstBad?.position != null
      ? ` ${t('audit.atPosition', { position: v.firstBad.position })}`
      : '';
  return (
    <p className={v.ok ? 'notice ok' : 'form-error'} role="status">
      {v.ok
        ? t('audit.intact', { n: n(v.checkedEvents), when })
        : t('audit.broken', { where, problem: v.firstBad?.message ?? v.firstBad?.problem, when })}
    </p>
  );
}

/** Exports of the events matching the search fields: created here, polled until written. */
function Exports(props: { filter: FilterDraft }) {
  const exports = useLoad(() => api.exports(), []);
  const [format, setFormat] = useState<'jsonl' | 'csv'>('jsonl');
  const { error, setError, run } = useAction(exports.reload);
  const busy = exports.data?.data.some((x) => x.status === 'pending' || x.status === 'running');

  const reload = exports.reload;
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => void reload(), JOB_POLL_MS);
    return () => clearInterval(timer);
  }, [busy, reload]);

  function create(e: FormEvent) {
    e.preventDefault();
    const filter = toFilter(props.filter);
    if (filter.actor && !isUuid(filter.actor)) {
      setError(i18next.t('audit.exportActor'));
      return;
    }
    void run(() => api.createExport({ ...filter, format }));
  }

  const { t } = useTranslation();
  return (
    <section className="panel" aria-labelledby="exports-title">
      <h2 id="exports-title">{t('audit.exports')}</h2>
      <form className="form-row" onSubmit={create}>
        <p className="muted">
          {t('audit.exportIntro')} <code>enclave audit verify</code>.
        </p>
        <label>
          {t('audit.format')}
          <select value={format} onChange={(e) => setFormat(e.target.value as 'jsonl' | 'csv')}>
            <option value="jsonl">{t('audit.jsonLines')}</option>
            <option value="csv">CSV</option>
          </select>
        </label>
        <button type="submit" className="primary">
          {t('audit.createExport')}
        </button>
      </form>
      <ErrorNote error={error ?? exports.error} />
      {exports.data && exports.data.data.length > 0 && (
        <ListTable
          columns={[
            t('users.created'),
            t('audit.by'),
            t('audit.format'),
            t('audit.filter'),
            t('users.status'),
            t('audit.events'),
            t('audit.download'),
          ]}
        >
          {exports.data.data.map((x) => (
            <ExportRow key={x.id} x={x} />
          ))}
        </ListTable>
      )}
    </section>
  );
}

function ExportRow({ x }: { x: AuditExport }) {
  const filter = Object.entries(x.filter ?? {})
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
  const { t } = useTranslation();
  return (
    <tr data-export={x.id}>
      <td className="time">{formatTime(x.createdAt)}</td>
      <td>{describe(x.createdBy)}</td>
      <td>{x.format}</td>
      <td className="mono">{filter || t('audit.allEvents')}</td>
      <td>
        <span
          className={`badge ${x.status === 'done' ? 'good' : x.status === 'failed' ? 'bad' : 'off'}`}
        >
          {x.status}
        </span>
        {x.error && ` ${x.error}`}
      </td>
      <td>{x.events ?? '—'}</td>
      <td className="actions">
        {x.status === 'done' && (
          <>
            <a className="button small" href={api.exportFileUrl(x.id, 'data')} download>
              {t('audit.data')}
            </a>
            <a className="button small" href={api.exportFileUrl(x.id, 'manifest')} download>
              {t('audit.manifest')}
            </a>
            <a className="button small" href={api.exportFileUrl(x.id, 'links')} download>
              {t('audit.links')}
            </a>
          </>
        )}
      </td>
    </tr>
  );
}
