import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type Me, type RuntimePolicies } from '../api';
import { Field, useAction } from '../forms';
import { ErrorNote, numberOrNull, PageHeader, useLoad } from '../ui';

/** Audit content level, retention, cache scope and the default system prompt. */
export function PoliciesPage({ me }: { me: Me }) {
  const policies = useLoad(() => api.policies(), []);
  const { t } = useTranslation();
  return (
    <>
      <PageHeader title={t('nav.policies')} />
      <ErrorNote error={policies.error} />
      {policies.data && (
        <PoliciesForm
          current={policies.data}
          readOnly={me.role !== 'admin'}
          onSaved={(p) => policies.setData(p)}
        />
      )}
    </>
  );
}

function PoliciesForm(props: {
  current: RuntimePolicies;
  readOnly: boolean;
  onSaved(p: RuntimePolicies): void;
}) {
  const c = props.current;
  const [auditContent, setAuditContent] = useState(c.auditContent);
  const [auditDefault, setAuditDefault] = useState(String(c.auditRetentionDays.default ?? ''));
  const [byKind, setByKind] = useState(
    Object.entries(c.auditRetentionDays.byKind).map(([kind, days]) => ({
      kind,
      days: String(days),
    })),
  );
  const [messageDays, setMessageDays] = useState(String(c.messageRetentionDays ?? ''));
  const [usageDays, setUsageDays] = useState(String(c.usageRetentionDays ?? ''));
  const [cacheScope, setCacheScope] = useState(c.cacheScope);
  const [prompt, setPrompt] = useState(c.defaultSystemPrompt);
  const { error, submit } = useAction();
  const { t } = useTranslation();
  const [saved, setSaved] = useState(false);
  const setKindRow = (i: number, row: { kind: string; days: string }) =>
    setByKind(byKind.map((x, j) => (j === i ? row : x)));

  useEffect(
    () => setSaved(false),
    [auditContent, auditDefault, byKind, messageDays, usageDays, cacheScope, prompt],
  );

  async function save() {
    const next = await api.updatePolicies({
      auditContent,
      auditRetentionDays: {
        default: numberOrNull(auditDefault),
        byKind: Object.fromEntries(
          byKind.filter((r) => r.kind.trim()).map((r) => [r.kind.trim(), Number(r.days)]),
        ),
      },
      messageRetentionDays: numberOrNull(messageDays),
      usageRetentionDays: numberOrNull(usageDays),
      cacheScope,
      defaultSystemPrompt: prompt,
    });
    props.onSaved(next);
    setSaved(true);
  }

  return (
    <form className="panel stack-form" onSubmit={submit(save)}>
      <fieldset disabled={props.readOnly}>
        <label>
          {t('policies.auditContent')}
          <select
            value={auditContent}
            onChange={(e) => setAuditContent(e.target.value as RuntimePolicies['auditContent'])}
          >
            <option value="none">{t('policies.contentNone')}</option>
            <option value="metadata">{t('policies.contentMetadata')}</option>
            <option value="full">{t('policies.contentFull')}</option>
          </select>
        </label>
        <Field
          label={t('policies.keepAudit')}
          type="number"
          min={1}
          value={auditDefault}
          onChange={setAuditDefault}
        />
        <fieldset className="nested">
          <legend>{t('policies.byKind')}</legend>
          {byKind.map((r, i) => (
            <div className="form-row" key={i}>
              <Field
                label={t('policies.kind')}
                value={r.kind}
                placeholder="chat.completion"
                onChange={(kind) => setKindRow(i, { ...r, kind })}
              />
              <Field
                label={t('policies.days')}
                type="number"
                min={1}
                required
                value={r.days}
                onChange={(days) => setKindRow(i, { ...r, days })}
              />
              <button
                type="button"
                className="small"
                onClick={() => setByKind(byKind.filter((_, j) => j !== i))}
              >
                {t('policies.remove')}
              </button>
            </div>
          ))}
          <button
            type="button"
            className="small"
            onClick={() => setByKind([...byKind, { kind: '', days: '' }])}
          >
            {t('policies.addKind')}
          </button>
        </fieldset>
        <Field
          label={t('policies.keepMessages')}
          type="number"
          min={1}
          value={messageDays}
          onChange={setMessageDays}
        />
        <Field
          label={t('policies.keepUsage')}
          type="number"
          min={1}
          value={usageDays}
          onChange={setUsageDays}
        />
        <label>
          {t('policies.cache')}
          <select
            value={cacheScope}
            onChange={(e) => setCacheScope(e.target.value as RuntimePolicies['cacheScope'])}
          >
            <option value="user">{t('policies.cacheUser')}</option>
            <option value="global">{t('policies.cacheGlobal')}</option>
            <option value="off">{t('policies.cacheOff')}</option>
          </select>
        </label>
        <label>
          {t('policies.systemPrompt')}
          <textarea
            rows={5}
            maxLength={20_000}
            value={prompt}
            onChange={(e) => setPrompt(e.target.value)}
          />
        </label>
        <button type="submit" className="primary">
          {t('policies.save')}
        </button>
      </fieldset>
      {saved && (
        <p className="notice" role="status">
          {t('policies.saved')}
        </p>
      )}
      <ErrorNote error={error} />
    </form>
  );
}
