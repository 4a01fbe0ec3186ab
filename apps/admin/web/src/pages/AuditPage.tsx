import { type FormEvent, useEffect, useState } from 'react';
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

  return (
    <>
      <PageHeader title="Audit" />
      <ChainStatus />
      <Exports filter={draft} />
      <LegalHolds me={me} />
      <section className="panel" aria-labelledby="events-title">
        <h2 id="events-title">Events</h2>
        <form
          className="form-row"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setFilter(toFilter(draft));
          }}
        >
          <Field label="From" type="datetime-local" value={draft.from} onChange={set('from')} />
          <Field label="To" type="datetime-local" value={draft.to} onChange={set('to')} />
          <Field
            label="Actor"
            value={draft.actor}
            placeholder="email or id"
            onChange={set('actor')}
          />
          <Field
            label="Action"
            value={draft.action}
            placeholder="auth.* or admin.user.created"
            onChange={set('action')}
          />
          <button type="submit">Search events</button>
        </form>
        <ErrorNote error={events.error} />
        <ListTable
          columns={['Position', 'When', 'Actor', 'Action', 'Target', 'Outcome', 'Payload']}
          empty={events.empty && 'No events match.'}
        >
          {events.items.map((e) => (
            <tr key={e.id}>
              <td className="mono">{e.position ?? <span className="badge off">unsealed</span>}</td>
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
                  <span className="badge off">redacted</span>
                ) : (
                  <details>
                    <summary>Show</summary>
                    {(e.sourceIp || e.requestId) && (
                      <p className="muted">
                        {e.sourceIp && `from ${e.sourceIp}`}
                        {e.sourceIp && e.requestId && ' · '}
                        {e.requestId && `request ${e.requestId}`}
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
  const open = latest !== null && (latest.status === 'pending' || latest.status === 'running');

  const reload = verifications.reload;
  useEffect(() => {
    if (!open) return;
    const timer = setInterval(() => void reload(), JOB_POLL_MS);
    return () => clearInterval(timer);
  }, [open, reload]);

  return (
    <section className="panel" aria-labelledby="chain-title">
      <h2 id="chain-title">Hash chain</h2>
      <ErrorNote error={error ?? status.error ?? verifications.error} />
      {s && (
        <dl className="facts">
          <dt>Sealed events</dt>
          <dd>{s.sealedEvents.toLocaleString()}</dd>
          <dt>Waiting to be sealed</dt>
          <dd>
            {s.unsealedEvents.toLocaleString()}
            {s.oldestUnsealedSeconds !== null &&
              s.unsealedEvents > 0 &&
              ` (oldest ${Math.round(s.oldestUnsealedSeconds)} s)`}
          </dd>
          <dt>Head</dt>
          <dd className="mono">
            {s.head ? `#${s.head.position} ${s.head.hash.slice(0, 16)}…` : 'empty chain'}
          </dd>
          <dt>Last signed checkpoint</dt>
          <dd className="mono">
            {s.lastCheckpoint
              ? `#${s.lastCheckpoint.position} at ${formatTime(s.lastCheckpoint.signedAt)}`
              : 'none yet'}
          </dd>
        </dl>
      )}
      <button
        type="button"
        onClick={() => void run(() => api.requestVerification())}
        disabled={asking || open}
      >
        {open ? 'Verifying…' : 'Verify the chain'}
      </button>
      {latest && <VerificationNote job={latest} />}
    </section>
  );
}

/** The latest verification: waiting for the audit app, its progress, or its verdict. */
function VerificationNote({ job }: { job: AuditVerificationJob }) {
  const asked = `asked by ${job.createdBy} at ${formatTime(job.createdAt)}`;
  if (job.status === 'pending') {
    return (
      <p className="notice" role="status">
        Waiting for the audit app to start the verification ({asked}).
      </p>
    );
  }
  if (job.status === 'running') {
    return (
      <p className="notice" role="status">
        Verifying: {job.positionsChecked.toLocaleString()} positions checked so far ({asked}).
      </p>
    );
  }
  if (job.status === 'failed' || !job.verdict) {
    return (
      <p className="form-error" role="status">
        The verification could not finish: {job.error ?? 'unknown error'}. Ask for it again.
      </p>
    );
  }
  const v = job.verdict;
  const when = job.finishedAt ? ` (finished ${formatTime(job.finishedAt)})` : '';
  return (
    <p className={v.ok ? 'notice ok' : 'form-error'} role="status">
      {v.ok
        ? `The chain is intact: ${v.checkedEvents.toLocaleString()} events checked${when}.`
        : `The chain is broken${v.firstBad?.position != null ? ` at position ${v.firstBad.position}` : ''}: ${v.firstBad?.message ?? v.firstBad?.problem}${when}`}
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
      setError(
        'An export filters by a user id, not an email: put the user id in Actor, or clear it.',
      );
      return;
    }
    void run(() => api.createExport({ ...filter, format }));
  }

  return (
    <section className="panel" aria-labelledby="exports-title">
      <h2 id="exports-title">Exports</h2>
      <form className="form-row" onSubmit={create}>
        <p className="muted">
          An export holds the events matching the search fields below (all events when empty), their
          chain links, the checkpoints and a signed manifest; check it offline with{' '}
          <code>enclave audit verify</code>.
        </p>
        <label>
          Format
          <select value={format} onChange={(e) => setFormat(e.target.value as 'jsonl' | 'csv')}>
            <option value="jsonl">JSON lines</option>
            <option value="csv">CSV</option>
          </select>
        </label>
        <button type="submit" className="primary">
          Create export
        </button>
      </form>
      <ErrorNote error={error ?? exports.error} />
      {exports.data && exports.data.data.length > 0 && (
        <ListTable columns={['Created', 'By', 'Format', 'Filter', 'Status', 'Events', 'Download']}>
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
  return (
    <tr data-export={x.id}>
      <td className="time">{formatTime(x.createdAt)}</td>
      <td>{describe(x.createdBy)}</td>
      <td>{x.format}</td>
      <td className="mono">{filter || 'all events'}</td>
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
              Data
            </a>
            <a className="button small" href={api.exportFileUrl(x.id, 'manifest')} download>
              Manifest
            </a>
            <a className="button small" href={api.exportFileUrl(x.id, 'links')} download>
              Links
            </a>
          </>
        )}
      </td>
    </tr>
  );
}
