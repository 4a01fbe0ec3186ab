import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { PageProps } from '../App';
import { api, type Group, type ModelEntitlement } from '../api';
import { Field, FormPanel, useAction } from '../forms';
import { ErrorNote, formatTime, ListTable, PageHeader, useLoad } from '../ui';

/** Which groups may use each model, and its price per million tokens. */
export function ModelAccessPage({ me }: PageProps) {
  const { t } = useTranslation();
  const models = useLoad(() => api.modelEntitlements(), []);
  const groups = useLoad(() => api.groups(), []);
  const [editing, setEditing] = useState<ModelEntitlement | null>(null);
  const isAdmin = me.role === 'admin';
  const nameOf = new Map(groups.data?.data.map((g) => [g.id, g.name]));
  const currency = models.data?.currency ?? '';

  return (
    <>
      <PageHeader title={t('teams.models.title')} />
      <ErrorNote error={models.error ?? groups.error} />
      {editing && (
        <ModelForm
          key={editing.model}
          entry={editing}
          groups={groups.data?.data ?? []}
          currency={currency}
          onDone={async () => {
            setEditing(null);
            await models.reload();
          }}
        />
      )}
      <section className="panel">
        <ListTable
          columns={[
            t('teams.models.model'),
            t('teams.models.openTo'),
            t('teams.models.input'),
            t('teams.models.output'),
            t('teams.models.since'),
          ]}
          actions={isAdmin}
          empty={models.data?.models.length === 0 && t('teams.models.empty')}
        >
          {models.data?.models.map((m) => (
            <tr key={m.model}>
              <td className="mono">{m.model}</td>
              <td>
                {m.groupIds.length
                  ? m.groupIds.map((id) => nameOf.get(id) ?? id).join(', ')
                  : t('teams.models.everyone')}
              </td>
              <td>{m.price ? `${m.price.inputPerMillion} ${m.price.currency}` : '—'}</td>
              <td>{m.price ? `${m.price.outputPerMillion} ${m.price.currency}` : '—'}</td>
              <td>{m.price ? formatTime(m.price.setAt) : ''}</td>
              {isAdmin && (
                <td className="actions">
                  <button type="button" className="small" onClick={() => setEditing(m)}>
                    {t('teams.models.edit', { model: m.model })}
                  </button>
                </td>
              )}
            </tr>
          ))}
        </ListTable>
      </section>
    </>
  );
}

function ModelForm(props: {
  entry: ModelEntitlement;
  groups: Group[];
  currency: string;
  onDone(): Promise<void>;
}) {
  const { t } = useTranslation();
  const { entry } = props;
  const [chosen, setChosen] = useState(new Set(entry.groupIds));
  const [input, setInput] = useState(String(entry.price?.inputPerMillion ?? ''));
  const [output, setOutput] = useState(String(entry.price?.outputPerMillion ?? ''));
  const { error, submit } = useAction();
  const toggle = (id: string) =>
    setChosen((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <FormPanel
      title={t('teams.models.formTitle', { model: entry.model })}
      submitLabel={t('teams.models.save')}
      error={error}
      onSubmit={submit(async () => {
        const groupIds = [...chosen];
        if (groupIds.sort().join() !== [...entry.groupIds].sort().join()) {
          await api.setModelAccess({ model: entry.model, groupIds });
        }
        const price = { inputPerMillion: Number(input), outputPerMillion: Number(output) };
        const changed =
          price.inputPerMillion !== entry.price?.inputPerMillion ||
          price.outputPerMillion !== entry.price?.outputPerMillion;
        if (input !== '' && output !== '' && changed) {
          await api.setPrice({ model: entry.model, ...price });
        }
        await props.onDone();
      })}
    >
      <fieldset className="group-picks">
        <legend>{t('teams.models.groupsLegend')}</legend>
        {props.groups.map((g) => (
          <label key={g.id} className="check">
            <input type="checkbox" checked={chosen.has(g.id)} onChange={() => toggle(g.id)} />
            {g.name}
          </label>
        ))}
      </fieldset>
      <Field
        label={t('teams.models.inputPrice', { currency: props.currency })}
        type="number"
        min={0}
        step="any"
        value={input}
        onChange={setInput}
      />
      <Field
        label={t('teams.models.outputPrice', { currency: props.currency })}
        type="number"
        min={0}
        step="any"
        value={output}
        onChange={setOutput}
      />
    </FormPanel>
  );
}
