import { type FormEvent, useEffect, useState } from 'react';
import { api, ApiFailure, type ChatParams, type Preset } from '../api';
import { Modal } from './Modal';
import { useTranslation } from 'react-i18next';

export interface Settings {
  systemPrompt: string | null;
  params: ChatParams;
}

/** The parameters the panel offers, as OpenAI names them (and its labels' keys), with ranges. */
const FIELDS: { key: keyof ChatParams; min: number; max: number; step: number }[] = [
  { key: 'temperature', min: 0, max: 2, step: 0.1 },
  { key: 'top_p', min: 0.01, max: 1, step: 0.01 },
  { key: 'max_tokens', min: 1, max: 1_000_000, step: 1 },
  { key: 'presence_penalty', min: -2, max: 2, step: 0.1 },
  { key: 'frequency_penalty', min: -2, max: 2, step: 0.1 },
];

type Drafts = Record<keyof ChatParams, string>;

function draftsOf(params: ChatParams): Drafts {
  return Object.fromEntries(
    FIELDS.map((f) => [f.key, params[f.key] === undefined ? '' : String(params[f.key])]),
  ) as Drafts;
}

function paramsOf(drafts: Drafts): ChatParams {
  const params: ChatParams = {};
  for (const f of FIELDS) if (drafts[f.key].trim() !== '') params[f.key] = Number(drafts[f.key]);
  return params;
}

const message = (err: unknown) => (err instanceof ApiFailure ? err.message : String(err));

/**
 * The conversation's system prompt and parameters, sent with each of its messages; presets
 * (your own and those an admin published) fill them in, and the current ones can be saved as
 * a preset of your own. Empty fields leave the choice to the model server.
 */
export function ConversationSettings(props: {
  current: Settings;
  onSave(settings: Settings): Promise<void>;
  onClose(): void;
}) {
  const { t } = useTranslation();
  const [systemPrompt, setSystemPrompt] = useState(props.current.systemPrompt ?? '');
  const [drafts, setDrafts] = useState<Drafts>(() => draftsOf(props.current.params));
  const [presets, setPresets] = useState<Preset[]>([]);
  const [presetId, setPresetId] = useState('');
  const [presetName, setPresetName] = useState('');
  const [status, setStatus] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .presets()
      .then((r) => setPresets(r.data))
      .catch((err: unknown) =>
        setError(t('features.settings.presetsFailed', { message: message(err) })),
      );
  }, [t]);

  function applyPreset(id: string) {
    setPresetId(id);
    const preset = presets.find((p) => p.id === id);
    if (!preset) return;
    setSystemPrompt(preset.systemPrompt ?? '');
    setDrafts(draftsOf(preset.params));
    setStatus(t('features.settings.filled', { name: preset.name }));
  }

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    setStatus('');
    try {
      await action();
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  }

  const settings = (): Settings => ({
    systemPrompt: systemPrompt.trim() ? systemPrompt : null,
    params: paramsOf(drafts),
  });

  function save(e: FormEvent) {
    e.preventDefault();
    void run(() => props.onSave(settings()));
  }

  const savePreset = () =>
    run(async () => {
      const preset = await api.createPreset({ name: presetName.trim(), ...settings() });
      setPresets((ps) => [...ps, preset]);
      setPresetId(preset.id);
      setPresetName('');
      setStatus(t('features.settings.savedPreset', { name: preset.name }));
    });

  const deletePreset = () =>
    run(async () => {
      await api.deletePreset(presetId);
      setPresets((ps) => ps.filter((p) => p.id !== presetId));
      setPresetId('');
      setStatus(t('features.settings.deleted'));
    });

  const chosen = presets.find((p) => p.id === presetId);
  return (
    <Modal title={t('features.settings.title')} onClose={props.onClose}>
      <form className="settings-form" onSubmit={save}>
        <div className="preset-row">
          <label htmlFor="preset">{t('features.settings.preset')}</label>
          <select id="preset" value={presetId} onChange={(e) => applyPreset(e.target.value)}>
            <option value="">{t('features.settings.choosePreset')}</option>
            {presets.map((p) => (
              <option key={p.id} value={p.id}>
                {p.shared ? t('features.settings.published', { name: p.name }) : p.name}
              </option>
            ))}
          </select>
          {chosen && !chosen.shared && (
            <button type="button" className="quiet small" disabled={busy} onClick={deletePreset}>
              {t('features.settings.deletePreset')}
            </button>
          )}
        </div>
        <label htmlFor="system-prompt">{t('features.settings.systemPrompt')}</label>
        <textarea
          id="system-prompt"
          rows={4}
          maxLength={20_000}
          placeholder={t('features.settings.systemPromptPlaceholder')}
          value={systemPrompt}
          onChange={(e) => setSystemPrompt(e.target.value)}
        />
        <div className="param-grid">
          {FIELDS.map((f) => (
            <label key={f.key}>
              {t(`features.settings.${f.key}`)}
              <input
                type="number"
                inputMode="decimal"
                min={f.min}
                max={f.max}
                step={f.step}
                placeholder={t('features.settings.modelDefault')}
                value={drafts[f.key]}
                onChange={(e) => setDrafts((d) => ({ ...d, [f.key]: e.target.value }))}
              />
            </label>
          ))}
        </div>
        <div className="preset-row">
          <label htmlFor="preset-name">{t('features.settings.saveAs')}</label>
          <input
            id="preset-name"
            maxLength={100}
            placeholder={t('features.settings.presetName')}
            value={presetName}
            onChange={(e) => setPresetName(e.target.value)}
          />
          <button
            type="button"
            className="small"
            disabled={busy || !presetName.trim()}
            onClick={savePreset}
          >
            {t('features.settings.savePreset')}
          </button>
        </div>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <p className="feedback-status" role="status">
          {status}
        </p>
        <div className="dialog-actions">
          <button type="button" className="quiet" onClick={props.onClose}>
            {t('cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {t('features.settings.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
