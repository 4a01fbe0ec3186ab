import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ConversationSummary, type OpenedConversation } from '../api';
import { Field, useAction } from '../forms';
import { Dialog, ErrorNote, formatTime, ListTable, PageHeader } from '../ui';
import { LoadMore, usePaged } from './paging';

const MIN_REASON = 5;

/**
 * Conversations: search by user without reading them (titles are content, so they stay hidden
 * too); opening one asks for a reason, which the server records in the audit trail. Message text
 * is shown as text, never as HTML.
 */
export function ConversationsPage() {
  const [q, setQ] = useState('');
  const [search, setSearch] = useState('');
  const list = usePaged((before) => api.conversations(search, before), [search]);
  const [asking, setAsking] = useState<ConversationSummary | null>(null);
  const [opened, setOpened] = useState<OpenedConversation | null>(null);
  const { t } = useTranslation();

  return (
    <>
      <PageHeader title={t('nav.conversations')} />
      <form
        className="panel form-row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setOpened(null);
          setSearch(q.trim());
        }}
      >
        <Field label={t('conversations.search')} type="search" value={q} onChange={setQ} />
        <button type="submit">{t('conversations.searchButton')}</button>
      </form>
      <ErrorNote error={list.error} />
      {opened ? (
        <OpenedView c={opened} onClose={() => setOpened(null)} />
      ) : (
        <section className="panel">
          <ListTable
            columns={[
              t('conversations.user'),
              t('conversations.model'),
              t('conversations.messages'),
              t('conversations.started'),
              t('conversations.lastActivity'),
            ]}
            actions
            empty={list.empty && t('conversations.none')}
          >
            {list.items.map((c) => (
              <tr key={c.id}>
                <td>{c.userEmail}</td>
                <td>{c.model ?? '—'}</td>
                <td>{c.messageCount}</td>
                <td className="time">{formatTime(c.createdAt)}</td>
                <td className="time">{formatTime(c.updatedAt)}</td>
                <td className="actions">
                  <button
                    type="button"
                    className="small"
                    onClick={() => setAsking(c)}
                    aria-label={t('conversations.openLabel', {
                      email: c.userEmail,
                      when: formatTime(c.createdAt),
                    })}
                  >
                    {t('conversations.open')}
                  </button>
                </td>
              </tr>
            ))}
          </ListTable>
          <LoadMore list={list} />
        </section>
      )}
      {asking && (
        <ReasonDialog
          id={asking.id}
          what={t('conversations.what', {
            email: asking.userEmail,
            when: formatTime(asking.createdAt),
          })}
          onCancel={() => setAsking(null)}
          onOpened={(o) => {
            setAsking(null);
            setOpened(o);
          }}
        />
      )}
    </>
  );
}

/** Asks why a conversation is opened, then opens it (the server audits the reason). */
export function ReasonDialog(props: {
  id: string;
  /** The conversation as the reader knows it, without its content (the title is content). */
  what: string;
  onCancel(): void;
  onOpened(o: OpenedConversation): void;
}) {
  const [reason, setReason] = useState('');
  const { error, busy, submit } = useAction();
  const { t } = useTranslation();

  return (
    <Dialog title={t('conversations.why')} onClose={props.onCancel}>
      <form
        onSubmit={submit(async () =>
          props.onOpened(await api.openConversation(props.id, reason.trim())),
        )}
        className="stack-form"
      >
        <p>{t('conversations.recorded', { what: props.what })}</p>
        <label>
          {t('conversations.reason')}
          <textarea
            required
            minLength={MIN_REASON}
            rows={3}
            autoFocus
            placeholder={t('conversations.reasonExample')}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        </label>
        <ErrorNote error={error} />
        <div className="dialog-actions">
          <button type="button" className="quiet" onClick={props.onCancel}>
            {t('cancel')}
          </button>
          <button
            type="submit"
            className="primary"
            disabled={busy || reason.trim().length < MIN_REASON}
          >
            {t('conversations.openButton')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function OpenedView({ c, onClose }: { c: OpenedConversation; onClose(): void }) {
  const { t } = useTranslation();
  return (
    <section className="panel" aria-labelledby="opened-title">
      <div className="page-head">
        <h2 id="opened-title">{c.conversation.title}</h2>
        <button type="button" onClick={onClose}>
          {t('conversations.back')}
        </button>
      </div>
      <p className="muted">
        {c.conversation.userEmail} · {c.conversation.model ?? t('conversations.noModel')} ·{' '}
        {t('conversations.startedAt', { when: formatTime(c.conversation.createdAt) })}
      </p>
      <ol className="transcript">
        {c.messages.map((m) => (
          <li key={m.id} className={`msg ${m.role}`}>
            <div className="msg-meta">
              <strong>{m.role}</strong> · {formatTime(m.createdAt)}
              {m.model && ` · ${m.model}`}
              {m.outcome && m.outcome !== 'completed' && ` · ${m.outcome}`}
            </div>
            {/* Text, never HTML: whatever a message holds is shown as typed. */}
            <div className="msg-text">{m.content}</div>
          </li>
        ))}
      </ol>
    </section>
  );
}
