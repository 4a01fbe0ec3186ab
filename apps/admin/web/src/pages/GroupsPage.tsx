import { useState } from 'react';
import type { PageProps } from '../App';
import { api, type Group } from '../api';
import { Field, FormPanel, useAction, UserSelect } from '../forms';
import { linkProps } from '../router';
import { Confirm, ErrorNote, formatTime, ListTable, PageHeader, useLoad } from '../ui';

/** Groups (teams, departments): model access and budgets are given to them. */
export function GroupsPage({ me }: PageProps) {
  const groups = useLoad(() => api.groups(), []);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const { error, submit } = useAction(groups.reload);
  const isAdmin = me.role === 'admin';

  return (
    <>
      <PageHeader title="Groups" />
      {isAdmin && (
        <FormPanel
          title="Create a group"
          submitLabel="Create group"
          error={error}
          onSubmit={submit(async () => {
            await api.createGroup({ name, description: description || null });
            setName('');
            setDescription('');
          })}
        >
          <Field label="Name" required maxLength={100} value={name} onChange={setName} />
          <Field label="Description" value={description} onChange={setDescription} />
        </FormPanel>
      )}
      <ErrorNote error={groups.error} />
      <section className="panel">
        <ListTable
          columns={['Group', 'Members', 'Description', 'Created']}
          empty={
            groups.data?.data.length === 0 &&
            'No groups yet: every model is open to everyone until one is restricted to a group.'
          }
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
      <PageHeader title={g ? `Group ${g.name}` : 'Group'}>
        <a {...linkProps('/groups')}>All groups</a>
        {isAdmin && g && (
          <button type="button" className="small" onClick={() => setDeleting(true)}>
            Delete group
          </button>
        )}
      </PageHeader>
      <ErrorNote error={group.error ?? error} />
      {g?.description && <p>{g.description}</p>}
      {isAdmin && (
        <FormPanel
          title="Add a member"
          submitLabel="Add member"
          error={null}
          onSubmit={submit(async () => {
            await api.addMember(id, userId);
            setUserId('');
          })}
        >
          <UserSelect
            label="User"
            none="Choose…"
            required
            users={users.data?.data ?? []}
            value={userId}
            onChange={setUserId}
          />
        </FormPanel>
      )}
      <section className="panel">
        <h2>Members</h2>
        <ListTable
          columns={['Email', 'Joined by', 'Since']}
          actions={isAdmin}
          empty={g?.members.length === 0 && 'Nobody is in this group yet.'}
        >
          {g?.members.map((m) => (
            <tr key={m.userId}>
              <td>{m.email}</td>
              <td>{m.via === 'sso' ? 'single sign-on' : 'by hand'}</td>
              <td>{formatTime(m.since)}</td>
              {isAdmin && (
                <td className="actions">
                  <button
                    type="button"
                    className="small"
                    onClick={() => void run(() => api.removeMember(id, m.userId))}
                  >
                    Remove {m.email}
                  </button>
                </td>
              )}
            </tr>
          ))}
        </ListTable>
      </section>
      {deleting && g && (
        <Confirm
          title={`Delete the group ${g.name}?`}
          body="Its members stay; models restricted to it only are then open to its former members no more, and its budgets no longer apply."
          confirmLabel="Delete group"
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
