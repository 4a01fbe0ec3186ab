import { useState } from 'react';
import { api, type Preset, type PromptTemplate } from '../api';
import { Field, FormPanel, useAction } from '../forms';
import { Confirm, ErrorNote, ListTable, PageHeader, useLoad } from '../ui';

/** The chat parameters a published preset may set, as OpenAI names them. */
const PARAMS = [
  ['temperature', 'Temperature'],
  ['top_p', 'Top p'],
  ['max_tokens', 'Max tokens'],
  ['presence_penalty', 'Presence penalty'],
  ['frequency_penalty', 'Frequency penalty'],
] as const;

type Removing = { kind: 'preset'; item: Preset } | { kind: 'template'; item: PromptTemplate };

/**
 * Presets (system prompt and parameters) and prompt templates published to every chat user;
 * users apply a preset in a conversation's settings and insert a template by typing `/name`.
 */
export function PresetsPage() {
  const presets = useLoad(() => api.presets(), []);
  const templates = useLoad(() => api.templates(), []);
  const { error, run } = useAction(async () => {
    await Promise.all([presets.reload(), templates.reload()]);
  });
  const [removing, setRemoving] = useState<Removing | null>(null);

  return (
    <>
      <PageHeader title="Presets and prompt templates" />
      <PresetForm onSaved={presets.reload} />
      <ErrorNote error={error ?? presets.error} />
      <section className="panel" aria-label="Published presets">
        <ListTable
          columns={['Preset', 'System prompt', 'Parameters']}
          actions
          empty={presets.data?.data.length === 0 && 'No published presets yet.'}
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
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </ListTable>
      </section>
      <TemplateForm onSaved={templates.reload} />
      <ErrorNote error={templates.error} />
      <section className="panel" aria-label="Published prompt templates">
        <ListTable
          columns={['Template', 'Text']}
          actions
          empty={templates.data?.data.length === 0 && 'No published prompt templates yet.'}
        >
          {templates.data?.data.map((t) => (
            <tr key={t.id}>
              <td className="mono">/{t.name}</td>
              <td>{t.content}</td>
              <td className="actions">
                <button
                  type="button"
                  className="small"
                  onClick={() => setRemoving({ kind: 'template', item: t })}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </ListTable>
      </section>
      {removing && (
        <Confirm
          title={removing.kind === 'preset' ? 'Delete this preset?' : 'Delete this template?'}
          body="Users no longer see it; conversations that used it keep their settings."
          confirmLabel="Delete"
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
      title="Publish a preset"
      submitLabel="Publish preset"
      onSubmit={submit(publish)}
      error={error}
      busy={busy}
    >
      <Field label="Name" required maxLength={100} value={name} onChange={setName} />
      <label>
        System prompt
        <textarea
          rows={2}
          maxLength={20_000}
          value={systemPrompt}
          onChange={(e) => setSystemPrompt(e.target.value)}
        />
      </label>
      {PARAMS.map(([key, label]) => (
        <Field
          key={key}
          label={label}
          type="number"
          step="any"
          placeholder="model default"
          value={params[key] ?? ''}
          onChange={(v) => setParams((p) => ({ ...p, [key]: v }))}
        />
      ))}
    </FormPanel>
  );
}

function TemplateForm(props: { onSaved(): Promise<unknown> }) {
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
      title="Publish a prompt template"
      submitLabel="Publish template"
      onSubmit={submit(publish)}
      error={error}
      busy={busy}
    >
      <Field
        label="Name (typed after /)"
        required
        maxLength={40}
        pattern="[a-z0-9][a-z0-9_\-]*"
        value={name}
        onChange={(v) => setName(v.toLowerCase())}
      />
      <label>
        Text
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
