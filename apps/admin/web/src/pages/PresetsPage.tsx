import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type Preset, type PromptTemplate } from '../api';
import { Field, FormPanel, useAction } from '../forms';
import { Confirm, ErrorNote, ListTable, PageHeader, useLoad } from '../ui';

/** The chat parameters a published preset may set, as OpenAI names them. */
const PARAMS = [
  'temperature',
  'top_p',
  'max_tokens',
  'presence_penalty',
  'frequency_penalty',
] as const;

type Removing = { kind: 'preset'; item: Preset } | { kind: 'template'; item: PromptTemplate };

/**
 * Presets (system prompt and parameters) and prompt templates published to every chat user;
 * users apply a preset in a conversation's settings and insert a template by typing `/name`.
 */
export function PresetsPage() {
  const { t } = useTranslation();
  const presets = useLoad(() => api.presets(), []);
  const templates = useLoad(() => api.templates(), []);
  const { error, run } = useAction(async () => {
    await Promise.all([presets.reload(), templates.reload()]);
  });
  const [removing, setRemoving] = useState<Removing | null>(null);

  return (
    <>
      <PageHeader title={t('presets.title')} />
      <PresetForm onSaved={presets.reload} />
      <ErrorNote error={error ?? presets.error} />
      <section className="panel" aria-label={t('presets.published')}>
        <ListTable
          columns={[t('presets.preset'), t('presets.systemPrompt'), t('presets.parameters')]}
          actions
          empty={presets.data?.data.length === 0 && t('presets.noPresets')}
        >
          {presets.data?.data.map((p) => (
            <tr key={p.id}>
              <td>{p.name}</td>
              <td>{p.systemPrompt ?? '—'}</td>
              <td className="mono">
                {Object.entries(p.params)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(', ') || '—'}
              </td>
              <td className="actions">
                <button
                  type="button"
                  className="small"
                  onClick={() => setRemoving({ kind: 'preset', item: p })}
                >
                  {t('presets.delete')}
                </button>
              </td>
            </tr>
          ))}
        </ListTable>
      </section>
      <TemplateForm onSaved={templates.reload} />
      <ErrorNote error={templates.error} />
      <section className="panel" aria-label={t('presets.publishedTemplates')}>
        <ListTable
          columns={[t('presets.template'), t('presets.text')]}
          actions
          empty={templates.data?.data.length === 0 && t('presets.noTemplates')}
        >
          {templates.data?.data.map((template) => (
            <tr key={template.id}>
              <td className="mono">/{template.name}</td>
              <td>{template.content}</td>
              <td className="actions">
                <button
                  type="button"
                  className="small"
                  onClick={() => setRemoving({ kind: 'template', item: template })}
                >
                  {t('presets.delete')}
                </button>
              </td>
            </tr>
          ))}
        </ListTable>
      </section>
      {removing && (
        <Confirm
          title={t(
            removing.kind === 'preset'
              ? 'presets.deletePresetTitle'
              : 'presets.deleteTemplateTitle',
          )}
          body={t('presets.deleteBody')}
          confirmLabel={t('presets.delete')}
          onCancel={() => setRemoving(null)}
          onConfirm={() => {
            const r = removing;
            setRemoving(null);
            void run(() =>
              r.kind === 'preset' ? api.deletePreset(r.item.id) : api.deleteTemplate(r.item.id),
            );
          }}
        />
      )}
    </>
  );
}

function PresetForm(props: { onSaved(): Promise<unknown> }) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [systemPrompt, setSystemPrompt] = useState('');
  const [params, setParams] = useState<Record<string, string>>({});
  const { error, busy, submit } = useAction(props.onSaved);

  async function publish() {
    await api.publishPreset({
      name,
      systemPrompt: systemPrompt.trim() ? systemPrompt : null,
      params: Object.fromEntries(
        Object.entries(params)
          .filter(([, v]) => v.trim() !== '')
          .map(([k, v]) => [k, Number(v)]),
      ),
    });
    setName('');
    setSystemPrompt('');
    setParams({});
  }

  return (
    <FormPanel
      title={t('presets.publishPreset')}
      submitLabel={t('presets.publishPresetButton')}
      onSubmit={submit(publish)}
      error={error}
      busy={busy}
    >
      <Field label={t('presets.name')} required maxLength={100} value={name} onChange={setName} />
      <label>
        {t('presets.systemPrompt')}
        <textarea
          rows={2}
          maxLength={20_000}
          value={systemPrompt}
          onChange={(e) => setSystemPrompt(e.target.value)}
        />
      </label>
      {PARAMS.map((key) => (
        <Field
          key={key}
          label={t(`presets.params.${key}`)}
          type="number"
          step="any"
          placeholder={t('presets.modelDefault')}
          value={params[key] ?? ''}
          onChange={(v) => setParams((p) => ({ ...p, [key]: v }))}
        />
      ))}
    </FormPanel>
  );
}

function TemplateForm(props: { onSaved(): Promise<unknown> }) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [content, setContent] = useState('');
  const { error, busy, submit } = useAction(props.onSaved);

  async function publish() {
    await api.publishTemplate({ name, content });
    setName('');
    setContent('');
  }

  return (
    <FormPanel
      title={t('presets.publishTemplate')}
      submitLabel={t('presets.publishTemplateButton')}
      onSubmit={submit(publish)}
      error={error}
      busy={busy}
    >
      <Field
        label={t('presets.templateName')}
        required
        maxLength={40}
        pattern="[a-z0-9][a-z0-9_\-]*"
        value={name}
        onChange={(v) => setName(v.toLowerCase())}
      />
      <label>
        {t('presets.text')}
        <textarea
          rows={2}
          required
          maxLength={20_000}
          value={content}
          onChange={(e) => setContent(e.target.value)}
        />
      </label>
    </FormPanel>
  );
}
