import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { PageProps } from '../App';
import { api, type Group } from '../api';
import { Field, FormPanel, useAction, UserSelect } from '../forms';
import { linkProps } from '../router';
import { Confirm, ErrorNote, formatTime, ListTable, PageHeader, useLoad } from '../ui';

/** Groups (teams, departments): model access and budgets are given to them. */
export function GroupsPage({ me }: PageProps) {
  const { t } = useTranslation();
  const groups = useLoad(() => api.groups(), []);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const { error, submit } = useAction(groups.reload);
  const isAdmin = me.role === 'admin';

  return (
    <>
      <PageHeader title={t('teams.groups.title')} />
      {isAdmin && (
        <FormPanel
          title={t('teams.groups.create')}
          submitLabel={t('teams.groups.createButton')}
          error={error}
          onSubmit={submit(async () => {
            await api.createGroup({ name, description: description || null });
            setName('');
            setDescription('');
          })}
        >
          <Field
            label={t('teams.groups.name')}
            required
            maxLength={100}
            value={name}
            onChange={setName}
          />
          <Field
            label={t('teams.groups.description')}
            value={description}
            onChange={setDescription}
          />
        </FormPanel>
      )}
      <ErrorNote error={groups.error} />
      <section className="panel">
        <ListTable
          columns={[
            t('teams.groups.group'),
            t('teams.groups.members'),
            t('teams.groups.description'),
            t('teams.groups.created'),
          ]}
          empty={groups.data?.data.length === 0 && t('teams.groups.empty')}
        >
          {groups.data?.data.map((g: Group) => (
            <tr key={g.id}>
              <td>
                <a {...linkProps(`/groups/${g.id}`)}>{g.name}</a>
              </td>
              <td>{g.memberCount}</td>
              <td>{g.description ?? ''}</td>
              <td>{formatTime(g.createdAt)}</td>
            </tr>
          ))}
        </ListTable>
      </section>
    </>
  );
}

/** One group: its members, added by hand or by single sign-on. */
export function GroupPage({ me, param }: PageProps) {
  const { t } = useTranslation();
  const id = param ?? '';
  const group = useLoad(() => api.group(id), [id]);
  const users = useLoad(() => (me.role === 'admin' ? api.users() : Promise.resolve(null)), []);
  const [userId, setUserId] = useState('');
  const [deleting, setDeleting] = useState(false);
  const { error, run, submit } = useAction(group.reload);
  const isAdmin = me.role === 'admin';
  const g = group.data;

  return (
    <>
      <PageHeader
        title={
          g ? t('teams.groups.detailTitle', { name: g.name }) : t('teams.groups.detailFallback')
        }
      >
        <a {...linkProps('/groups')}>{t('teams.groups.all')}</a>
        {isAdmin && g && (
          <button type="button" className="small" onClick={() => setDeleting(true)}>
            {t('teams.groups.delete')}
          </button>
        )}
      </PageHeader>
      <ErrorNote error={group.error ?? error} />
      {g?.description && <p>{g.description}</p>}
      {isAdmin && (
        <FormPanel
          title={t('teams.groups.addMember')}
          submitLabel={t('teams.groups.addButton')}
          error={null}
          onSubmit={submit(async () => {
            await api.addMember(id, userId);
            setUserId('');
          })}
        >
          <UserSelect
            label={t('teams.groups.user')}
            none={t('teams.groups.choose')}
            required
            users={users.data?.data ?? []}
            value={userId}
            onChange={setUserId}
          />
        </FormPanel>
      )}
      <section className="panel">
        <h2>{t('teams.groups.members')}</h2>
        <ListTable
          columns={[t('teams.groups.email'), t('teams.groups.joinedBy'), t('teams.groups.since')]}
          actions={isAdmin}
          empty={g?.members.length === 0 && t('teams.groups.noMembers')}
        >
          {g?.members.map((m) => (
            <tr key={m.userId}>
              <td>{m.email}</td>
              <td>{m.via === 'sso' ? t('teams.groups.sso') : t('teams.groups.manual')}</td>
              <td>{formatTime(m.since)}</td>
              {isAdmin && (
                <td className="actions">
                  <button
                    type="button"
                    className="small"
                    onClick={() => void run(() => api.removeMember(id, m.userId))}
                  >
                    {t('teams.groups.remove', { email: m.email })}
                  </button>
                </td>
              )}
            </tr>
          ))}
        </ListTable>
      </section>
      {deleting && g && (
        <Confirm
          title={t('teams.groups.deleteTitle', { name: g.name })}
          body={t('teams.groups.deleteBody')}
          confirmLabel={t('teams.groups.delete')}
          onCancel={() => setDeleting(false)}
          onConfirm={() => {
            setDeleting(false);
            void run(async () => {
              await api.deleteGroup(id);
              window.history.back();
            });
          }}
        />
      )}
    </>
  );
}
