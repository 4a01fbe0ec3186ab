import { useState } from 'react';
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

  return (
    <>
      <PageHeader title="Backends and models" />
      <BackendForm
        title="Add a backend"
        submitLabel="Add backend"
        onSubmit={async (input) => {
          await api.createBackend(input);
          await backends.reload();
        }}
      />
      <ErrorNote error={error ?? backends.error} />
      <section className="panel" aria-labelledby="backend-list-title">
        <h2 id="backend-list-title">Backends</h2>
        <ListTable columns={['Name', 'URL', 'Models', 'Weight', 'Health', 'Last error']} actions>
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
          title={`Remove the backend ${removing.name}?`}
          body="Requests stop going to it at once. To pause it instead, disable it."
          confirmLabel="Remove backend"
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
  const health = b.health ?? { enabled: b.enabled, healthy: null, circuitOpen: null };
  return (
    <>
      <tr data-backend={b.name}>
        <td>{b.name}</td>
        <td className="mono">{b.baseUrl}</td>
        <td className="list">
          {(b.models ?? b.health?.models)?.join('\n') ?? 'as listed by the server'}
        </td>
        <td>{b.weight}</td>
        <td>
          <HealthBadge b={{ ...health, enabled: b.enabled }} />
          {props.tested && (
            <span className="test-result" role="status">
              {props.tested.result
                ? props.tested.result.healthy
                  ? ` Test passed (${formatTime(props.tested.result.lastCheckedAt)})`
                  : ` Test failed: ${props.tested.result.lastError ?? 'no answer'}`
                : ' Not in the pool (disabled?)'}
            </span>
          )}
        </td>
        <td>{b.health?.lastError ?? '—'}</td>
        <td className="actions">
          <button
            type="button"
            className="small"
            onClick={props.onTest}
            aria-label={`Test ${b.name}`}
          >
            Test connection
          </button>
          <button
            type="button"
            className="small"
            onClick={props.onEdit}
            aria-expanded={props.editing}
            aria-label={`Edit ${b.name}`}
          >
            Edit
          </button>
          <button
            type="button"
            className="small"
            onClick={props.onToggle}
            aria-label={`${b.enabled ? 'Disable' : 'Enable'} ${b.name}`}
          >
            {b.enabled ? 'Disable' : 'Enable'}
          </button>
          <button
            type="button"
            className="small"
            onClick={props.onRemove}
            aria-label={`Remove ${b.name}`}
          >
            Remove
          </button>
        </td>
      </tr>
      {props.editing && (
        <tr>
          <td colSpan={7}>
            <BackendForm
              title={`Edit ${b.name}`}
              submitLabel="Save changes"
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
      <Field label="Name" required value={name} onChange={setName} />
      <Field
        label="Base URL"
        type="url"
        required
        placeholder="http://gpu-1:8000/v1"
        value={baseUrl}
        onChange={setBaseUrl}
      />
      <Field
        label={i?.hasApiKey ? 'API key (empty: keep the stored one)' : 'API key (optional)'}
        type="password"
        autoComplete="off"
        value={apiKey}
        onChange={setApiKey}
      />
      <Field
        label="Models (comma-separated; empty: ask the server)"
        value={models}
        onChange={setModels}
      />
      <Field label="Weight" type="number" min={1} max={1000} value={weight} onChange={setWeight} />
      <Field
        label="Max concurrent"
        type="number"
        min={1}
        value={maxConcurrent}
        onChange={setMaxConcurrent}
      />
      <Field
        label="Timeout (ms)"
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

  return (
    <section className="panel" aria-labelledby="aliases-title">
      <h2 id="aliases-title">Model aliases</h2>
      <ErrorNote error={error ?? aliases.error} />
      <ListTable columns={['Alias', 'Model']} actions>
        {aliases.data?.data.map((a) => (
          <tr key={a.alias}>
            <td className="mono">{a.alias}</td>
            <td className="mono">{a.model}</td>
            <td className="actions">
              <button
                type="button"
                className="small"
                aria-label={`Remove alias ${a.alias}`}
                onClick={() => act(() => api.deleteAlias(a.alias))}
              >
                Remove
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
        <Field label="Alias" required value={alias} onChange={setAlias} />
        <Field label="Model" required value={model} onChange={setModel} />
        <button type="submit">Set alias</button>
      </form>
    </section>
  );
}
