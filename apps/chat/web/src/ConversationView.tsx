import {
  type FormEvent,
  type KeyboardEvent,
  useCallback,
  useEffect,
  useRef,
  useState,
} from 'react';
import { ConfirmDialog } from '@enclave/web';
import i18next from 'i18next';
import { useTranslation } from 'react-i18next';
import {
  api,
  ApiFailure,
  connectionLost,
  type Conversation,
  type ConversationDetail,
  type Feedback,
  type StoredMessage,
} from './api';
import { loadDraft, saveDraft } from './drafts';
import { describeFailure, type UiError } from './errors';
import { ConversationSettings, type Settings } from './features/ConversationSettings';
import { useTemplateMenu } from './features/TemplateMenu';
import {
  conversationJson,
  conversationMarkdown,
  download,
  exportFileName,
} from './exportConversation';
import { MessageItem, type UiMessage } from './MessageItem';
import { streamTurn, type Turn } from './stream';

/** The bundled simulator's backend name: its answers are placeholders, and the page says so. */
const SIMULATOR = 'llm-sim';
/** How long to wait for the server to store an answer that has finished streaming. */
const SETTLE_ATTEMPTS = 40;

type Phase = 'loading' | 'idle' | 'streaming' | 'saving';

function toUi(messages: StoredMessage[]): UiMessage[] {
  return messages
    .filter(
      (m): m is StoredMessage & { role: 'user' | 'assistant' } =>
        (m.role === 'user' || m.role === 'assistant') &&
        // A request that failed before any text has nothing to show; the error said why. Among
        // versions it stays, saying so, so the others remain one click away.
        !(
          m.role === 'assistant' &&
          !m.content &&
          m.outcome === 'upstream_error' &&
          m.versionIds.length < 2
        ),
    )
    .map((m) => ({
      key: m.id,
      id: m.id,
      role: m.role,
      content: m.content,
      model: m.model,
      upstream: m.upstream,
      outcome: m.outcome,
      streaming: false,
      versionIds: m.versionIds,
    }));
}

/** The model the conversation last used (what its next message should go to). */
function modelOf(c: ConversationDetail): string | null {
  return c.messages.findLast((m) => m.model && m.role !== 'system')?.model ?? c.model;
}

function usersIn(messages: StoredMessage[]): number {
  return messages.filter((m) => m.role === 'user').length;
}

function withoutTrailingAnswer(messages: UiMessage[]): UiMessage[] {
  return messages.at(-1)?.role === 'assistant' ? messages.slice(0, -1) : messages;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let keys = 0;

/** One conversation: its messages, the streamed answer, the composer, rename and delete. */
export function ConversationView(props: {
  userId: string;
  initialId: string | null;
  models: string[] | null;
  modelsError: string | null;
  /** The model a new chat starts with (the person's last choice). */
  defaultModel: string;
  onModelChange(model: string): void;
  onCreated(c: Conversation): void;
  /** A chat created for a first message that was refused, deleted again: nothing to keep. */
  onDiscarded(id: string): void;
  onChanged(): void;
  onDeleted(id: string): void;
}) {
  const { onChanged, onModelChange } = props;
  const { t } = useTranslation();
  const idRef = useRef<string | null>(props.initialId);
  const [title, setTitle] = useState(props.initialId ? '' : i18next.t('newChat'));
  const [messages, setMessages] = useState<UiMessage[]>([]);
  const [feedback, setFeedback] = useState<Record<string, Feedback>>({});
  const [phase, setPhase] = useState<Phase>(props.initialId ? 'loading' : 'idle');
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [retry, setRetry] = useState<Turn | null>(null);
  const [backend, setBackend] = useState<string | null>(null);
  const [draft, setDraft] = useState(() => loadDraft(props.userId, props.initialId));
  /** The conversation's own model (from its messages); null for a new chat. */
  const [conversationModel, setConversationModel] = useState<string | null>(null);
  /** Picked in this view; wins over the conversation's until the next load. */
  const [picked, setPicked] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [renaming, setRenaming] = useState(false);
  const [titleDraft, setTitleDraft] = useState('');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [settings, setSettings] = useState<Settings>({ systemPrompt: null, params: {} });
  const [settingsOpen, setSettingsOpen] = useState(false);
  const templateMenu = useTemplateMenu(draft, setDraft);
  const model = picked ?? conversationModel ?? props.defaultModel;
  const abort = useRef<AbortController | null>(null);
  const serverUsers = useRef(0);
  const mounted = useRef(false);
  const streamed = useRef('');
  const flushTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const bottom = useRef<HTMLDivElement>(null);
  const prompt = useRef<HTMLTextAreaElement>(null);

  /** Shows the server's copy of the conversation. */
  const apply = useCallback((c: ConversationDetail) => {
    setTitle(c.title);
    setSettings({ systemPrompt: c.systemPrompt, params: c.params });
    setMessages(toUi(c.messages));
    serverUsers.current = usersIn(c.messages);
    setConversationModel(modelOf(c));
    setPicked(null);
    const lastAnswer = c.messages.findLast((m) => m.role === 'assistant' && m.upstream);
    if (lastAnswer) setBackend(lastAnswer.upstream);
  }, []);

  useEffect(() => {
    mounted.current = true;
    const id = props.initialId;
    if (id) {
      Promise.all([api.conversation(id), api.feedbackOf(id)])
        .then(([c, f]) => {
          if (!mounted.current) return;
          apply(c);
          setFeedback(Object.fromEntries(f.data.map((x) => [x.messageId, x])));
          setPhase('idle');
        })
        .catch((err: unknown) => {
          if (!mounted.current) return;
          setLoadError(
            err instanceof ApiFailure && err.status === 404
              ? i18next.t('conversation.notFound')
              : i18next.t('conversation.loadFailed', {
                  message: err instanceof ApiFailure ? err.message : String(err),
                }),
          );
          setPhase('idle');
        });
    }
    return () => {
      mounted.current = false;
      abort.current?.abort();
      if (flushTimer.current) clearTimeout(flushTimer.current);
    };
    // Runs once: the parent keys this view by conversation, so a new one mounts a new view.
  }, []);

  // Every keystroke is kept, so a session that ends mid-sentence loses nothing.
  useEffect(() => {
    saveDraft(props.userId, idRef.current, draft);
  }, [draft, props.userId]);

  // Keep the newest text in view while the person is reading at the bottom.
  useEffect(() => {
    const el = bottom.current;
    if (!el) return;
    const scroller = el.parentElement;
    if (!scroller) return;
    const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 160;
    if (nearBottom) el.scrollIntoView({ block: 'end' });
  }, [messages]);

  const flush = useCallback(() => {
    flushTimer.current = null;
    const text = streamed.current;
    setMessages((ms) => {
      const last = ms.at(-1);
      if (!last?.streaming || last.content === text) return ms;
      return [...ms.slice(0, -1), { ...last, content: text }];
    });
  }, []);

  const finishStreaming = useCallback((outcome: StoredMessage['outcome']) => {
    setMessages((ms) => {
      const last = ms.at(-1);
      if (!last?.streaming) return ms;
      // Nothing arrived: no empty answer to show.
      if (!last.content) return ms.slice(0, -1);
      return [...ms.slice(0, -1), { ...last, streaming: false, outcome }];
    });
  }, []);

  /** Waits until the server has stored the answer (ids for feedback), then shows its copy. */
  const settle = useCallback(
    async (id: string) => {
      for (let attempt = 0; attempt < SETTLE_ATTEMPTS && mounted.current; attempt++) {
        try {
          const c = await api.conversation(id);
          if (c.messages.at(-1)?.outcome !== 'in_progress') {
            if (mounted.current) apply(c);
            return;
          }
        } catch {
          return;
        }
        await sleep(50 + attempt * 25);
      }
    },
    [apply],
  );

  async function send(turn: Turn) {
    if (phase !== 'idle' || !model) return;
    setError(null);
    setRetry(null);
    setAnnouncement('');
    let id = idRef.current;
    const createdNow = !id;
    if (!id) {
      try {
        id = await ensureConversation();
        saveDraft(props.userId, null, '');
      } catch (err) {
        const failure = err instanceof ApiFailure ? err : connectionLost();
        setError(describeFailure(failure, model));
        setRetry(turn);
        return;
      }
    }
    const usersBefore = serverUsers.current;
    // An edited message replaces what is shown from it on (the server keeps the old version).
    const upTo = (ms: UiMessage[]) => {
      const at = 'editOf' in turn ? ms.findIndex((m) => m.id === turn.editOf) : -1;
      return at < 0 ? ms : ms.slice(0, at);
    };
    setMessages((ms) => [
      ...('regenerate' in turn
        ? withoutTrailingAnswer(ms)
        : [
            ...upTo(ms),
            {
              key: `local-${++keys}`,
              id: null,
              role: 'user' as const,
              content: turn.content,
              model,
              upstream: null,
              outcome: null,
              streaming: false,
              versionIds: [],
            },
          ]),
      {
        key: `local-${++keys}`,
        id: null,
        role: 'assistant',
        content: '',
        model,
        upstream: null,
        outcome: 'in_progress',
        streaming: true,
        versionIds: [],
      },
    ]);
    if ('content' in turn && !('editOf' in turn && turn.editOf)) setDraft('');
    streamed.current = '';
    const controller = new AbortController();
    abort.current = controller;
    setPhase('streaming');

    const end = await streamTurn(id, model, turn, controller.signal, {
      onStart: (b) => setBackend(b),
      onText: (text) => {
        streamed.current += text;
        flushTimer.current ??= setTimeout(flush, 16);
      },
    });
    abort.current = null;
    // Refused because the session ended: the page is going to the sign-in form, so the text
    // goes back to storage for when this conversation opens again.
    if (!mounted.current && end.kind === 'refused' && 'content' in turn) {
      saveDraft(props.userId, id, turn.content);
    }
    if (!mounted.current) return;
    if (flushTimer.current) clearTimeout(flushTimer.current);
    flush();
    setPhase('saving');

    switch (end.kind) {
      case 'done':
        finishStreaming('completed');
        setAnnouncement(i18next.t('conversation.complete'));
        await settle(id);
        break;
      case 'stopped':
        finishStreaming('client_disconnected');
        setAnnouncement(i18next.t('conversation.stopped'));
        await settle(id);
        break;
      case 'interrupted':
        // The partial answer stays on screen; Retry asks for a new one.
        finishStreaming('upstream_error');
        setError(describeFailure(end.failure, model));
        setRetry({ regenerate: true });
        break;
      case 'refused': {
        let stored = 'regenerate' in turn;
        try {
          const c = await api.conversation(id);
          if ('content' in turn) {
            // An edit adds no message to the path shown: it replaces the edited one there.
            stored = turn.editOf
              ? !c.messages.some((m) => m.id === turn.editOf)
              : usersIn(c.messages) > usersBefore;
          }
          if (mounted.current) apply(c);
        } catch {
          setMessages((ms) =>
            'content' in turn && !stored ? ms.slice(0, -2) : withoutTrailingAnswer(ms),
          );
        }
        // Nothing was kept: the text goes back into the box, to send again or change.
        // Stored at once too: a refusal for an ended session unmounts this view next.
        if ('content' in turn && !stored) {
          setDraft(turn.content);
          saveDraft(props.userId, id, turn.content);
        }
        // A chat made for this first message holds nothing: delete it rather than leave an
        // empty "New chat" in the list (the text is back in the box).
        if (createdNow && !stored && (await discard(id))) {
          saveDraft(props.userId, null, 'content' in turn ? turn.content : '');
        }
        setError(describeFailure(end.failure, model));
        setRetry(stored ? { regenerate: true } : turn);
        break;
      }
    }
    if (!mounted.current) return;
    setPhase('idle');
    onChanged();
  }

  /** The conversation's id, creating it first for a new chat. */
  async function ensureConversation(): Promise<string> {
    if (idRef.current) return idRef.current;
    const created = await api.createConversation({ model: model || undefined });
    idRef.current = created.id;
    setTitle(created.title);
    props.onCreated(created);
    return created.id;
  }

  async function saveSettings(next: Settings) {
    const id = await ensureConversation();
    const saved = await api.updateSettings(id, next);
    setSettings({ systemPrompt: saved.systemPrompt, params: saved.params });
    setSettingsOpen(false);
    setAnnouncement(t('features.settings.saved'));
  }

  async function selectVersion(messageId: string) {
    const id = idRef.current;
    if (!id || phase !== 'idle') return;
    try {
      apply(await api.selectVersion(id, { messageId }));
    } catch (err) {
      setError(describeFailure(err instanceof ApiFailure ? err : connectionLost(), model));
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    const content = draft.trim();
    if (content) void send({ content });
  }

  function onPromptKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (templateMenu.onKeyDown(e)) return;
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      const content = draft.trim();
      if (content && phase === 'idle') void send({ content });
    } else if (e.key === 'Escape' && phase === 'streaming') {
      abort.current?.abort();
    }
  }

  /** Deletes a chat that holds no message; true when it is gone. */
  async function discard(id: string): Promise<boolean> {
    try {
      await api.remove(id);
    } catch {
      return false;
    }
    idRef.current = null;
    setTitle(i18next.t('newChat'));
    setMessages([]);
    props.onDiscarded(id);
    return true;
  }

  async function exportAs(format: 'md' | 'json') {
    const id = idRef.current;
    if (!id) return;
    try {
      const c = await api.conversation(id);
      if (format === 'json') {
        download(conversationJson(c), exportFileName(c, 'json'), 'application/json');
      } else {
        const labels = {
          you: t('message.you'),
          assistant: t('message.assistant'),
          system: t('export.system'),
        };
        download(conversationMarkdown(c, labels), exportFileName(c, 'md'), 'text/markdown');
      }
    } catch (err) {
      setError(describeFailure(err instanceof ApiFailure ? err : connectionLost(), model));
    }
  }

  async function saveTitle(e: FormEvent) {
    e.preventDefault();
    const id = idRef.current;
    const next = titleDraft.trim();
    if (!id || !next) return;
    try {
      const renamed = await api.rename(id, { title: next });
      setTitle(renamed.title);
      setRenaming(false);
      onChanged();
    } catch (err) {
      setError(describeFailure(err instanceof ApiFailure ? err : connectionLost(), model));
    }
  }

  async function remove() {
    const id = idRef.current;
    setConfirmDelete(false);
    if (!id) return;
    try {
      await api.remove(id);
      props.onDeleted(id);
    } catch (err) {
      setError(describeFailure(err instanceof ApiFailure ? err : connectionLost(), model));
    }
  }

  const onFeedback = useCallback(
    (f: Feedback) => setFeedback((all) => ({ ...all, [f.messageId]: f })),
    [],
  );
  // Stable across renders, so only the message that changes re-renders in a long history.
  const sendLatest = useRef(send);
  sendLatest.current = send;
  const regenerate = useCallback(() => void sendLatest.current({ regenerate: true }), []);
  const edit = useCallback(
    (editOf: string, content: string) => void sendLatest.current({ content, editOf }),
    [],
  );
  const selectLatest = useRef(selectVersion);
  selectLatest.current = selectVersion;
  const showVersion = useCallback((id: string) => void selectLatest.current(id), []);

  const lastAnswer = messages.at(-1)?.role === 'assistant' ? messages.at(-1) : undefined;
  const busy = phase !== 'idle';
  const noModels = props.models !== null && props.models.length === 0;
  // A model the conversation used that is no longer offered is still shown: the picker tells
  // the truth about where the next message goes (and the server says why it cannot).
  const modelOptions =
    props.models && model && !props.models.includes(model)
      ? [model, ...props.models]
      : props.models;

  return (
    <main className="conversation" aria-label={title || t('conversation.label')}>
      <div className="conversation-head">
        {renaming ? (
          <form className="rename" onSubmit={saveTitle}>
            <label htmlFor="title-input" className="visually-hidden">
              {t('conversation.titleLabel')}
            </label>
            <input
              id="title-input"
              value={titleDraft}
              maxLength={200}
              autoFocus
              onChange={(e) => setTitleDraft(e.target.value)}
              onKeyDown={(e) => e.key === 'Escape' && setRenaming(false)}
            />
            <button type="submit" className="small">
              {t('save')}
            </button>
            <button type="button" className="quiet small" onClick={() => setRenaming(false)}>
              {t('cancel')}
            </button>
          </form>
        ) : (
          <h1>{title || t('conversation.label')}</h1>
        )}
        <div className="head-actions">
          <label htmlFor="model">{t('conversation.model')}</label>
          <select
            id="model"
            value={model}
            disabled={busy || !props.models?.length}
            onChange={(e) => {
              setPicked(e.target.value);
              onModelChange(e.target.value);
            }}
          >
            {props.models === null && <option value={model}>{t('loading')}</option>}
            {modelOptions?.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="quiet small"
            disabled={busy}
            aria-haspopup="dialog"
            onClick={() => setSettingsOpen(true)}
          >
            {t('features.settings.button')}
          </button>
          {idRef.current && !renaming && (
            <>
              <button
                type="button"
                className="quiet small"
                disabled={busy}
                onClick={() => {
                  setTitleDraft(title);
                  setRenaming(true);
                }}
              >
                {t('conversation.rename')}
              </button>
              <button
                type="button"
                className="quiet small"
                disabled={busy}
                onClick={() => setConfirmDelete(true)}
              >
                {t('delete')}
              </button>
              <button
                type="button"
                className="quiet small"
                disabled={busy}
                onClick={() => void exportAs('md')}
              >
                {t('export.markdown')}
              </button>
              <button
                type="button"
                className="quiet small"
                disabled={busy}
                onClick={() => void exportAs('json')}
              >
                {t('export.json')}
              </button>
            </>
          )}
        </div>
      </div>

      {backend === SIMULATOR && (
        <p className="sim-banner" role="note">
          {t('conversation.simulator')}
        </p>
      )}
      {props.modelsError && (
        <p className="form-error" role="alert">
          {props.modelsError}
        </p>
      )}

      <div className="scroller">
        {loadError ? (
          <p className="form-error" role="alert">
            {loadError}
          </p>
        ) : phase === 'loading' ? (
          <p className="page-status" role="status">
            {t('conversation.loading')}
          </p>
        ) : messages.length === 0 ? (
          <p className="empty-chat">{t('conversation.empty')}</p>
        ) : (
          <ol className="messages" aria-label={t('conversation.messages')}>
            {messages.map((m) => (
              <MessageItem
                key={m.key}
                message={m}
                feedback={m.id ? (feedback[m.id] ?? null) : null}
                onRegenerate={m === lastAnswer && phase === 'idle' && m.id ? regenerate : null}
                onFeedback={onFeedback}
                onEdit={phase === 'idle' && m.id && m.role === 'user' ? edit : null}
                onSelectVersion={phase === 'idle' ? showVersion : null}
              />
            ))}
          </ol>
        )}
        <div ref={bottom} />
      </div>

      {error && (
        <div className={`error-panel ${error.kind}`} role="alert">
          <div>
            <strong>{error.title}</strong>
            <p>{error.detail}</p>
          </div>
          <div className="row">
            {error.retryable && retry && (
              <button
                type="button"
                className="small"
                disabled={busy}
                onClick={() => void send(retry)}
              >
                {t('retry')}
              </button>
            )}
            <button type="button" className="quiet small" onClick={() => setError(null)}>
              {t('dismiss')}
            </button>
          </div>
        </div>
      )}

      <form className="composer" onSubmit={submit}>
        {templateMenu.menu}
        <label htmlFor="prompt" className="visually-hidden">
          {t('composer.label')}
        </label>
        <textarea
          id="prompt"
          ref={prompt}
          rows={2}
          placeholder={t('composer.placeholder')}
          value={draft}
          disabled={noModels || !!loadError}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onPromptKey}
          {...templateMenu.inputProps}
        />
        {phase === 'streaming' ? (
          <button type="button" className="danger" onClick={() => abort.current?.abort()}>
            {t('composer.stop')}
          </button>
        ) : (
          <button
            type="submit"
            className="primary"
            disabled={busy || !draft.trim() || !model || noModels}
          >
            {t('composer.send')}
          </button>
        )}
      </form>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>

      {templateMenu.dialog}
      {settingsOpen && (
        <ConversationSettings
          current={settings}
          onSave={saveSettings}
          onClose={() => setSettingsOpen(false)}
        />
      )}

      <ConfirmDialog
        open={confirmDelete}
        className="confirm"
        title={t('conversation.deleteTitle')}
        body={t('conversation.deleteBody')}
        confirmLabel={t('delete')}
        onConfirm={() => void remove()}
        onCancel={() => setConfirmDelete(false)}
      />
    </main>
  );
}
