import { type FormEvent, useEffect, useState } from 'react';
import { api, ApiFailure, type PromptTemplate } from '../api';
import { Modal } from './Modal';

const message = (err: unknown) => (err instanceof ApiFailure ? err.message : String(err));

/** Your prompt templates (add, delete) and the ones an admin published (to use only). */
export function TemplatesDialog(props: { onClose(): void }) {
  const [templates, setTemplates] = useState<PromptTemplate[]>([]);
  const [name, setName] = useState('');
  const [content, setContent] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .templates()
      .then((r) => setTemplates(r.data))
      .catch((err: unknown) => setError(message(err)));
  }, []);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  }

  function add(e: FormEvent) {
    e.preventDefault();
    void run(async () => {
      const t = await api.createTemplate({ name: name.trim(), content });
      setTemplates((ts) => [...ts, t].sort((a, b) => a.name.localeCompare(b.name)));
      setName('');
      setContent('');
    });
  }

  return (
    <Modal title="Prompt templates" onClose={props.onClose}>
      <ul className="template-list" aria-label="Your templates and published ones">
        {templates.map((t) => (
          <li key={t.id}>
            <strong>/{t.name}</strong>
            {t.shared ? (
              <span className="tag">published</span>
            ) : (
              <button
                type="button"
                className="quiet small"
                aria-label={`Delete /${t.name}`}
                disabled={busy}
                onClick={() =>
                  void run(async () => {
                    await api.deleteTemplate(t.id);
                    setTemplates((ts) => ts.filter((x) => x.id !== t.id));
                  })
                }
              >
                Delete
              </button>
            )}
            <span className="template-preview">{t.content}</span>
          </li>
        ))}
      </ul>
      <form className="settings-form" onSubmit={add}>
        <label htmlFor="template-name">Name (what you type after /)</label>
        <input
          id="template-name"
          maxLength={40}
          pattern="[a-z0-9][a-z0-9_\-]*"
          placeholder="e.g. summary"
          value={name}
          onChange={(e) => setName(e.target.value.toLowerCase())}
        />
        <label htmlFor="template-content">Text</label>
        <textarea
          id="template-content"
          rows={3}
          maxLength={20_000}
          value={content}
          onChange={(e) => setContent(e.target.value)}
        />
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="quiet" onClick={props.onClose}>
            Close
          </button>
          <button type="submit" className="primary" disabled={busy || !name || !content.trim()}>
            Add template
          </button>
        </div>
      </form>
    </Modal>
  );
}
