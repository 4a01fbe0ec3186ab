import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  api,
  type Backend,
  type BackendHealth,
  type CreateBackend,
  type UpdateBackend,
} from '../api';
import { Field, FormPanel, useAction } from '../forms';
import {
  Confirm,
  ErrorNote,
  formatTime,
  listFromText,
  ListTable,
  PageHeader,
  useLoad,
} from '../ui';
import { HealthBadge } from './DashboardPage';

/** Health is live: the list is re-read this often. */
const REFRESH_MS = 5_000;

/** LLM backends (add, edit, test, disable, remove; live health) and model aliases. */
export function BackendsPage() {
  const backends = useLoad(() => api.backends(), [], REFRESH_MS);
  const { error, run: act } = useAction(backends.reload);
  const [editing, setEditing] = useState<string | null>(null);
  const [tested, setTested] = useState<{ id: string; result: BackendHealth | null } | null>(null);
  const [removing, setRemoving] = useState<Backend | null>(null);
  const { t } = useTranslation();

  return (
    <>
      <PageHeader title={t('backends.title')} />
      <BackendForm
        title={t('backends.add')}
        submitLabel={t('backends.addButton')}
        onSubmit={async (input) => {
          await api.createBackend(input);
          await backends.reload();
        }}
      />
      <ErrorNote error={error ?? backends.error} />
      <section className="panel" aria-labelledby="backend-list-title">
        <h2 id="backend-list-title">{t('dashboard.backends')}</h2>
        <ListTable
          columns={[
            t('dashboard.name'),
            'URL',
            t('keys.models'),
            t('backends.weight'),
            t('dashboard.health'),
            t('dashboard.lastError'),
          ]}
          actions
        >
          {backends.data?.map((b) => (
            <BackendRow
              key={b.id}
              b={b}
              editing={editing === b.id}
              tested={tested?.id === b.id ? tested : null}
              onEdit={() => setEditing(editing === b.id ? null : b.id)}
              onSaved={async () => {
                setEditing(null);
                await backends.reload();
              }}
              onTest={() =>
                act(async () => setTested({ id: b.id, result: await api.testBackend(b.id) }))
              }
              onToggle={() => act(() => api.updateBackend(b.id, { enabled: !b.enabled }))}
              onRemove={() => setRemoving(b)}
            />
          ))}
        </ListTable>
      </section>
      <Aliases />
      {removing && (
        <Confirm
          title={t('backends.removeTitle', { name: removing.name })}
          body={t('backends.removeBody')}
          confirmLabel={t('backends.removeBackend')}
          onCancel={() => setRemoving(null)}
          onConfirm={() => {
            const b = removing;
            setRemoving(null);
            void act(() => api.deleteBackend(b.id));
          }}
        />
      )}
    </>
  );
}

function BackendRow(props: {
  b: Backend;
  editing: boolean;
  tested: { result: BackendHealth | null } | null;
  onEdit(): void;
  onSaved(): Promise<void>;
  onTest(): void;
  onToggle(): void;
  onRemove(): void;
}) {
  const { b } = props;
  const { t } = useTranslation();
  const health = b.health ?? { enabled: b.enabled, healthy: null, circuitOpen: null };
  return (
    <>
      <tr data-backend={b.name}>
        <td>{b.name}</td>
        <td className="mono">{b.baseUrl}</td>
        <td className="list">
          {(b.models ?? b.health?.models)?.join('\n') ?? t('backends.serverModels')}
        </td>
        <td>{b.weight}</td>
        <td>
          <HealthBadge b={{ ...health, enabled: b.enabled }} />
          {props.tested && (
            <span className="test-result" role="status">
              {props.tested.result
                ? props.tested.result.healthy
                  ? ` ${t('backends.testPassed', { when: formatTime(props.tested.result.lastCheckedAt) })}`
                  : ` ${t('backends.testFailed', { error: props.tested.result.lastError ?? t('backends.noAnswer') })}`
                : ` ${t('backends.notInPool')}`}
            </span>
          )}
        </td>
        <td>{b.health?.lastError ?? '—'}</td>
        <td className="actions">
          <button
            type="button"
            className="small"
            onClick={props.onTest}
            aria-label={t('backends.testNamed', { name: b.name })}
          >
            {t('backends.test')}
          </button>
          <button
            type="button"
            className="small"
            onClick={props.onEdit}
            aria-expanded={props.editing}
            aria-label={t('backends.editNamed', { name: b.name })}
          >
            {t('backends.edit')}
          </button>
          <button
            type="button"
            className="small"
            onClick={props.onToggle}
            aria-label={
              b.enabled
                ? t('backends.disableNamed', { name: b.name })
                : t('backends.enableNamed', { name: b.name })
            }
          >
            {b.enabled ? t('users.disable') : t('users.enable')}
          </button>
          <button
            type="button"
            className="small"
            onClick={props.onRemove}
            aria-label={t('backends.removeNamed', { name: b.name })}
          >
            {t('quotas.remove')}
          </button>
        </td>
      </tr>
      {props.editing && (
        <tr>
          <td colSpan={7}>
            <BackendForm
              title={t('backends.editNamed', { name: b.name })}
              submitLabel={t('backends.save')}
              initial={b}
              onSubmit={async (input) => {
                await api.updateBackend(b.id, input);
                await props.onSaved();
              }}
            />
          </td>
        </tr>
      )}
    </>
  );
}

/** Add or edit: on edit only what changed is sent, and an empty key field keeps the key. */
function BackendForm(
  props: { title: string; submitLabel: string } & (
    | { initial?: undefined; onSubmit(input: CreateBackend): Promise<void> }
    | { initial: Backend; onSubmit(change: UpdateBackend): Promise<void> }
  ),
) {
  const i = props.initial;
  const [name, setName] = useState(i?.name ?? '');
  const [baseUrl, setBaseUrl] = useState(i?.baseUrl ?? '');
  const [apiKey, setApiKey] = useState('');
  const [models, setModels] = useState(i?.models?.join(', ') ?? '');
  const [weight, setWeight] = useState(String(i?.weight ?? 1));
  const [maxConcurrent, setMaxConcurrent] = useState(String(i?.maxConcurrent ?? 256));
  const [timeoutMs, setTimeoutMs] = useState(String(i?.timeoutMs ?? 60_000));
  const [responsesApi, setResponsesApi] = useState(i?.responsesApi ?? false);
  const { error, submit } = useAction();
  const { t } = useTranslation();

  async function save() {
    const all: CreateBackend = {
      name,
      baseUrl,
      models: listFromText(models),
      weight: Number(weight),
      maxConcurrent: Number(maxConcurrent),
      timeoutMs: Number(timeoutMs),
      responsesApi,
      ...(apiKey ? { apiKey } : {}),
    };
    if (props.initial) {
      const before = props.initial as unknown as Record<string, unknown>;
      await props.onSubmit(
        Object.fromEntries(
          Object.entries(all).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k])),
        ),
      );
    } else {
      await props.onSubmit(all);
      setName('');
      setBaseUrl('');
      setApiKey('');
      setModels('');
    }
  }

  return (
    <FormPanel
      title={props.title}
      submitLabel={props.submitLabel}
      error={error}
      onSubmit={submit(save)}
    >
      <Field label={t('dashboard.name')} required value={name} onChange={setName} />
      <Field
        label={t('backends.baseUrl')}
        type="url"
        required
        placeholder="http://gpu-1:8000/v1"
        value={baseUrl}
        onChange={setBaseUrl}
      />
      <Field
        label={i?.hasApiKey ? t('backends.keyKeep') : t('backends.keyOptional')}
        type="password"
        autoComplete="off"
        value={apiKey}
        onChange={setApiKey}
      />
      <Field label={t('backends.modelsField')} value={models} onChange={setModels} />
      <Field
        label={t('backends.weight')}
        type="number"
        min={1}
        max={1000}
        value={weight}
        onChange={setWeight}
      />
      <Field
        label={t('backends.maxConcurrent')}
        type="number"
        min={1}
        value={maxConcurrent}
        onChange={setMaxConcurrent}
      />
      <Field
        label={t('backends.timeout')}
        type="number"
        min={100}
        value={timeoutMs}
        onChange={setTimeoutMs}
      />
      <label>
        /v1/responses
        <select
          value={responsesApi ? 'served' : 'translated'}
          onChange={(e) => setResponsesApi(e.target.value === 'served')}
        >
          <option value="translated">translated to chat completions by Enclave</option>
          <option value="served">served by this server (forwarded as is)</option>
        </select>
      </label>
    </FormPanel>
  );
}

/** Model aliases: a name clients use (`default`) for a real model. */
function Aliases() {
  const aliases = useLoad(() => api.aliases(), []);
  const { error, run: act, submit } = useAction(aliases.reload);
  const [alias, setAlias] = useState('');
  const [model, setModel] = useState('');
  const { t } = useTranslation();

  return (
    <section className="panel" aria-labelledby="aliases-title">
      <h2 id="aliases-title">{t('backends.aliases')}</h2>
      <ErrorNote error={error ?? aliases.error} />
      <ListTable columns={[t('backends.alias'), t('feedback.model')]} actions>
        {aliases.data?.data.map((a) => (
          <tr key={a.alias}>
            <td className="mono">{a.alias}</td>
            <td className="mono">{a.model}</td>
            <td className="actions">
              <button
                type="button"
                className="small"
                aria-label={t('backends.removeAlias', { alias: a.alias })}
                onClick={() => act(() => api.deleteAlias(a.alias))}
              >
                {t('quotas.remove')}
              </button>
            </td>
          </tr>
        ))}
      </ListTable>
      <form
        className="form-row"
        onSubmit={submit(async () => {
          await api.setAlias(alias.trim(), model.trim());
          setAlias('');
          setModel('');
        })}
      >
        <Field label={t('backends.alias')} required value={alias} onChange={setAlias} />
        <Field label={t('feedback.model')} required value={model} onChange={setModel} />
        <button type="submit">{t('backends.setAlias')}</button>
      </form>
    </section>
  );
}
