import { useState } from 'react';
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
  const set = (k: keyof Filter) => (value: string) =>
    setDraft({ ...draft, [k]: value || undefined });

  return (
    <>
      <PageHeader title="Feedback" />
      <form
        className="panel form-row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter({ ...draft, model: draft.model?.trim() || undefined });
        }}
      >
        <label>
          Rating
          <select value={draft.rating ?? ''} onChange={(e) => set('rating')(e.target.value)}>
            <option value="">any</option>
            <option value="up">good</option>
            <option value="down">bad</option>
          </select>
        </label>
        <Field label="Model" value={draft.model ?? ''} onChange={set('model')} />
        <Field label="From (day)" type="date" value={draft.from ?? ''} onChange={set('from')} />
        <Field label="To (day, included)" type="date" value={draft.to ?? ''} onChange={set('to')} />
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={list.error} />
      {opened && <OpenedView c={opened} onClose={() => setOpened(null)} />}
      {asking && (
        <ReasonDialog
          id={asking.conversationId}
          what={`the conversation behind this feedback of ${asking.userEmail}`}
          onCancel={() => setAsking(null)}
          onOpened={(o) => {
            setAsking(null);
            setOpened(o);
          }}
        />
      )}
      <section className="panel" hidden={opened !== null}>
        <ListTable
          columns={['When', 'Rating', 'Comment', 'Model', 'Backend', 'User']}
          actions
          empty={list.empty && 'No feedback matches.'}
        >
          {list.items.map((f) => (
            <tr key={f.id}>
              <td className="time">{formatTime(f.createdAt)}</td>
              <td>
                <span className={`badge ${f.rating === 'up' ? 'good' : 'bad'}`}>
                  {f.rating === 'up' ? 'Good' : 'Bad'}
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
                    Open conversation…
                  </button>
                ) : (
                  'via the API'
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
