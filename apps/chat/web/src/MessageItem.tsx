import { type FormEvent, memo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiFailure, type Feedback, type Rating, type StoredMessage } from './api';
import { copyText } from './clipboard';
import { MarkdownText } from './Markdown';
import { EditMessage } from './features/EditMessage';
import { VersionSwitcher } from './features/VersionSwitcher';

export interface UiMessage {
  key: string;
  /** Null until the server's copy is known (while streaming). */
  id: string | null;
  role: 'user' | 'assistant';
  content: string;
  model: string | null;
  upstream: string | null;
  outcome: StoredMessage['outcome'];
  streaming: boolean;
  /** This message and its other versions (edits, regenerated answers), oldest first. */
  versionIds: string[];
}

export const MessageItem = memo(function MessageItem(props: {
  message: UiMessage;
  feedback: Feedback | null;
  /** Set on the last answer when a new one may be asked for. */
  onRegenerate: (() => void) | null;
  onFeedback(saved: Feedback): void;
  /** Set on your stored messages when an edited version may be sent. */
  onEdit: ((id: string, content: string) => void) | null;
  /** Set when another version may be shown. */
  onSelectVersion: ((id: string) => void) | null;
}) {
  const m = props.message;
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  const [editing, setEditing] = useState(false);
  const who = m.role === 'user' ? t('message.you') : t('message.assistant');

  return (
    <li className={`message ${m.role}`} aria-busy={m.streaming}>
      <article aria-label={m.role === 'user' ? t('message.yours') : t('message.answer')}>
        <header className="message-meta">
          <span className="who">{who}</span>
          {m.role === 'assistant' && m.model && <span className="model">{m.model}</span>}
        </header>
        {m.role === 'user' && editing && m.id && props.onEdit ? (
          <EditMessage
            id={m.id}
            content={m.content}
            onCancel={() => setEditing(false)}
            onSend={(content) => {
              setEditing(false);
              props.onEdit?.(m.id!, content);
            }}
          />
        ) : m.role === 'user' ? (
          <p className="plain">{m.content}</p>
        ) : m.content ? (
          <MarkdownText text={m.content} />
        ) : m.streaming ? (
          <p className="typing">{t('message.writing')}</p>
        ) : m.outcome === 'upstream_error' ? (
          <p className="note">{t('message.failed')}</p>
        ) : null}
        {!m.streaming && m.outcome === 'client_disconnected' && (
          <p className="note">{t('message.stopped')}</p>
        )}
        {!m.streaming &&
          (m.outcome === 'upstream_error' || m.outcome === 'interrupted') &&
          m.content && <p className="note">{t('message.cutOff')}</p>}
        {!m.streaming && (m.content || m.versionIds.length > 1) && !editing && (
          <div className="message-actions">
            {m.id && (
              <VersionSwitcher
                id={m.id}
                versionIds={m.versionIds}
                disabled={!props.onSelectVersion}
                onSelect={(id) => props.onSelectVersion?.(id)}
              />
            )}
            {m.role === 'user' && props.onEdit && (
              <button type="button" className="quiet small" onClick={() => setEditing(true)}>
                {t('features.edit.button')}
              </button>
            )}
            {m.content && (
              <button
                type="button"
                className="quiet small"
                aria-label={
                  copied
                    ? t('copied')
                    : m.role === 'user'
                      ? t('message.copyYours')
                      : t('message.copyAnswer')
                }
                onClick={async () => {
                  if (await copyText(m.content)) {
                    setCopied(true);
                    setTimeout(() => setCopied(false), 2000);
                  }
                }}
              >
                {copied ? t('copied') : t('message.copy')}
              </button>
            )}
            {props.onRegenerate && (
              <button type="button" className="quiet small" onClick={props.onRegenerate}>
                {t('message.regenerate')}
              </button>
            )}
            {m.role === 'assistant' && m.id && m.content && (
              <FeedbackControls
                messageId={m.id}
                value={props.feedback}
                onSaved={props.onFeedback}
              />
            )}
          </div>
        )}
      </article>
    </li>
  );
});

function FeedbackControls(props: {
  messageId: string;
  value: Feedback | null;
  onSaved(f: Feedback): void;
}) {
  const [rating, setRating] = useState<Rating | null>(props.value?.rating ?? null);
  const [comment, setComment] = useState(props.value?.comment ?? '');
  const [open, setOpen] = useState(false);
  // What the last save said, as a key: shown in the language picked now, not the one then.
  const [status, setStatus] = useState<{ key: string; message?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const { t } = useTranslation();
  const commentId = `comment-${props.messageId}`;

  async function save(r: Rating, c: string) {
    setBusy(true);
    setStatus(null);
    try {
      const saved = await api.giveFeedback(props.messageId, {
        rating: r,
        comment: c.trim() || null,
      });
      props.onSaved(saved);
      setStatus({ key: saved.comment ? 'feedback.savedWithComment' : 'feedback.saved' });
      return true;
    } catch (err) {
      setStatus({
        key: 'feedback.failed',
        message: err instanceof ApiFailure ? err.message : String(err),
      });
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function rate(r: Rating) {
    setRating(r);
    setOpen(true);
    await save(r, comment);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (rating && (await save(rating, comment))) setOpen(false);
  }

  return (
    <>
      <button
        type="button"
        className="quiet small thumb"
        aria-label={t('feedback.good')}
        aria-pressed={rating === 'up'}
        disabled={busy}
        onClick={() => void rate('up')}
      >
        <ThumbIcon />
      </button>
      <button
        type="button"
        className="quiet small thumb"
        aria-label={t('feedback.bad')}
        aria-pressed={rating === 'down'}
        disabled={busy}
        onClick={() => void rate('down')}
      >
        <ThumbIcon down />
      </button>
      <span className="feedback-status" role="status">
        {status && t(status.key, { message: status.message })}
      </span>
      {open && rating && (
        <form className="feedback-form" onSubmit={submit}>
          <label htmlFor={commentId}>
            {rating === 'up' ? t('feedback.whatGood') : t('feedback.whatWrong')}
          </label>
          <textarea
            id={commentId}
            rows={2}
            maxLength={2000}
            value={comment}
            onChange={(e) => setComment(e.target.value)}
          />
          <div className="row">
            <button type="submit" className="small" disabled={busy}>
              {t('feedback.send')}
            </button>
            <button type="button" className="quiet small" onClick={() => setOpen(false)}>
              {t('close')}
            </button>
          </div>
        </form>
      )}
    </>
  );
}

/** A thumb (no emoji font needed); decorative, the button carries the name. */
function ThumbIcon({ down = false }: { down?: boolean }) {
  return (
    <svg
      viewBox="0 0 24 24"
      width="18"
      height="18"
      aria-hidden="true"
      focusable="false"
      className={down ? 'icon flip' : 'icon'}
    >
      <path
        d="M7 10v11H3V10h4zm2 11h8.3a2 2 0 0 0 2-1.6l1.6-7A2 2 0 0 0 19 10h-5.2l.8-3.9A2.2 2.2 0 0 0 12.5 3L9 9.6V21z"
        fill="currentColor"
      />
    </svg>
  );
}
