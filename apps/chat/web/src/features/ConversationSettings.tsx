import { type FormEvent, useEffect, useState } from 'react';
import { api, ApiFailure, type ChatParams, type Preset } from '../api';
import { Modal } from './Modal';

export interface Settings {
  systemPrompt: string | null;
  params: ChatParams;
}

/** The parameters the panel offers, as OpenAI names them, with their ranges. */
const FIELDS: { key: keyof ChatParams; label: string; min: number; max: number; step: number }[] = [
  { key: 'temperature', label: 'Temperature', min: 0, max: 2, step: 0.1 },
  { key: 'top_p', label: 'Top p', min: 0.01, max: 1, step: 0.01 },
  { key: 'max_tokens', label: 'Max tokens', min: 1, max: 1_000_000, step: 1 },
  { key: 'presence_penalty', label: 'Presence penalty', min: -2, max: 2, step: 0.1 },
  { key: 'frequency_penalty', label: 'Frequency penalty', min: -2, max: 2, step: 0.1 },
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
      .catch((err: unknown) => setError(`The presets could not be loaded: ${message(err)}`));
  }, []);

  function applyPreset(id: string) {
    setPresetId(id);
    const preset = presets.find((p) => p.id === id);
    if (!preset) return;
    setSystemPrompt(preset.systemPrompt ?? '');
    setDrafts(draftsOf(preset.params));
    setStatus(`Preset “${preset.name}” filled in; save to use it.`);
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
      setStatus(`Saved as preset “${preset.name}”.`);
    });

  const deletePreset = () =>
    run(async () => {
      await api.deletePreset(presetId);
      setPresets((ps) => ps.filter((p) => p.id !== presetId));
      setPresetId('');
      setStatus('Preset deleted.');
    });

  const chosen = presets.find((p) => p.id === presetId);
  return (
    <Modal title="Conversation settings" onClose={props.onClose}>
      <form className="settings-form" onSubmit={save}>
        <div className="preset-row">
          <label htmlFor="preset">Preset</label>
          <select id="preset" value={presetId} onChange={(e) => applyPreset(e.target.value)}>
            <option value="">Choose a preset…</option>
            {presets.map((p) => (
              <option key={p.id} value={p.id}>
                {p.shared ? `${p.name} (published)` : p.name}
              </option>
            ))}
          </select>
          {chosen && !chosen.shared && (
            <button type="button" className="quiet small" disabled={busy} onClick={deletePreset}>
              Delete preset
            </button>
          )}
        </div>
        <label htmlFor="system-prompt">System prompt</label>
        <textarea
          id="system-prompt"
          rows={4}
          maxLength={20_000}
          placeholder="Empty: the administrator's default"
          value={systemPrompt}
          onChange={(e) => setSystemPrompt(e.target.value)}
        />
        <div className="param-grid">
          {FIELDS.map((f) => (
            <label key={f.key}>
              {f.label}
              <input
                type="number"
                inputMode="decimal"
                min={f.min}
                max={f.max}
                step={f.step}
                placeholder="Model default"
                value={drafts[f.key]}
                onChange={(e) => setDrafts((d) => ({ ...d, [f.key]: e.target.value }))}
              />
            </label>
          ))}
        </div>
        <div className="preset-row">
          <label htmlFor="preset-name">Save these as a preset</label>
          <input
            id="preset-name"
            maxLength={100}
            placeholder="Preset name"
            value={presetName}
            onChange={(e) => setPresetName(e.target.value)}
          />
          <button
            type="button"
            className="small"
            disabled={busy || !presetName.trim()}
            onClick={savePreset}
          >
            Save preset
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
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            Save settings
          </button>
        </div>
      </form>
    </Modal>
  );
}
