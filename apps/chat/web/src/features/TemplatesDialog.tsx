import { type FormEvent, useEffect, useState } from 'react';
import { api, ApiFailure, type PromptTemplate } from '../api';
import { Modal } from './Modal';
import { useTranslation } from 'react-i18next';

const message = (err: unknown) => (err instanceof ApiFailure ? err.message : String(err));

/** Your prompt templates (add, delete) and the ones an admin published (to use only). */
export function TemplatesDialog(props: { onClose(): void }) {
  const { t } = useTranslation();
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
      const created = await api.createTemplate({ name: name.trim(), content });
      setTemplates((ts) => [...ts, created].sort((a, b) => a.name.localeCompare(b.name)));
      setName('');
      setContent('');
    });
  }

  return (
    <Modal title={t('features.templates.label')} onClose={props.onClose}>
      <ul className="template-list" aria-label={t('features.templates.listLabel')}>
        {templates.map((tpl) => (
          <li key={tpl.id}>
            <strong>/{tpl.name}</strong>
            {tpl.shared ? (
              <span className="tag">{t('features.templates.published')}</span>
            ) : (
              <button
                type="button"
                className="quiet small"
                aria-label={t('features.templates.deleteOne', { name: tpl.name })}
                disabled={busy}
                onClick={() =>
                  void run(async () => {
                    await api.deleteTemplate(tpl.id);
                    setTemplates((ts) => ts.filter((x) => x.id !== tpl.id));
                  })
                }
              >
                {t('delete')}
              </button>
            )}
            <span className="template-preview">{tpl.content}</span>
          </li>
        ))}
      </ul>
      <form className="settings-form" onSubmit={add}>
        <label htmlFor="template-name">{t('features.templates.name')}</label>
        <input
          id="template-name"
          maxLength={40}
          pattern="[a-z0-9][a-z0-9_\-]*"
          placeholder={t('features.templates.namePlaceholder')}
          value={name}
          onChange={(e) => setName(e.target.value.toLowerCase())}
        />
        <label htmlFor="template-content">{t('features.templates.text')}</label>
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
            {t('close')}
          </button>
          <button type="submit" className="primary" disabled={busy || !name || !content.trim()}>
            {t('features.templates.add')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
