import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type OpenedConversation } from '../api';
import { Field } from '../forms';
import { ErrorNote, formatTime, ListTable, PageHeader } from '../ui';
import { OpenedView, ReasonDialog } from './ConversationsPage';
import { LoadMore, usePaged } from './paging';

interface Filter {
  rating?: string;
  model?: string;
  from?: string;
  to?: string;
}

/** What staff said about the answers, newest first, filtered by rating, model and days. */
export function FeedbackPage() {
  const [draft, setDraft] = useState<Filter>({});
  const [filter, setFilter] = useState<Filter>({});
  const list = usePaged((cursor) => api.feedback(filter, cursor), [JSON.stringify(filter)]);
  const [asking, setAsking] = useState<{ conversationId: string; userEmail: string } | null>(null);
  const [opened, setOpened] = useState<OpenedConversation | null>(null);
  const { t } = useTranslation();
  const set = (k: keyof Filter) => (value: string) =>
    setDraft({ ...draft, [k]: value || undefined });

  return (
    <>
      <PageHeader title={t('nav.feedback')} />
      <form
        className="panel form-row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter({ ...draft, model: draft.model?.trim() || undefined });
        }}
      >
        <label>
          {t('feedback.rating')}
          <select value={draft.rating ?? ''} onChange={(e) => set('rating')(e.target.value)}>
            <option value="">{t('feedback.any')}</option>
            <option value="up">{t('feedback.goodOption')}</option>
            <option value="down">{t('feedback.badOption')}</option>
          </select>
        </label>
        <Field label={t('feedback.model')} value={draft.model ?? ''} onChange={set('model')} />
        <Field
          label={t('feedback.from')}
          type="date"
          value={draft.from ?? ''}
          onChange={set('from')}
        />
        <Field label={t('feedback.to')} type="date" value={draft.to ?? ''} onChange={set('to')} />
        <button type="submit">{t('feedback.filter')}</button>
      </form>
      <ErrorNote error={list.error} />
      {opened && <OpenedView c={opened} onClose={() => setOpened(null)} />}
      {asking && (
        <ReasonDialog
          id={asking.conversationId}
          what={t('feedback.what', { email: asking.userEmail })}
          onCancel={() => setAsking(null)}
          onOpened={(o) => {
            setAsking(null);
            setOpened(o);
          }}
        />
      )}
      <section className="panel" hidden={opened !== null}>
        <ListTable
          columns={[
            t('feedback.when'),
            t('feedback.rating'),
            t('feedback.comment'),
            t('feedback.model'),
            t('feedback.backend'),
            t('feedback.user'),
          ]}
          actions
          empty={list.empty && t('feedback.none')}
        >
          {list.items.map((f) => (
            <tr key={f.id}>
              <td className="time">{formatTime(f.createdAt)}</td>
              <td>
                <span className={`badge ${f.rating === 'up' ? 'good' : 'bad'}`}>
                  {f.rating === 'up' ? t('feedback.good') : t('feedback.bad')}
                </span>
              </td>
              <td className="wrap">{f.comment ?? '—'}</td>
              <td>{f.model ?? '—'}</td>
              <td>{f.backend ?? '—'}</td>
              <td>{f.userEmail}</td>
              <td className="actions">
                {/* Answers given through the API (/v1) belong to no conversation. */}
                {f.conversationId !== null ? (
                  <button
                    type="button"
                    className="small"
                    onClick={() =>
                      setAsking({ conversationId: f.conversationId!, userEmail: f.userEmail })
                    }
                  >
                    {t('feedback.open')}
                  </button>
                ) : (
                  t('feedback.viaApi')
                )}
              </td>
            </tr>
          ))}
        </ListTable>
        <LoadMore list={list} />
      </section>
    </>
  );
}
