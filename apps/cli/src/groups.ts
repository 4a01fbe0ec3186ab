import type { Command } from 'commander';
import type { DataSource } from 'typeorm';
import { type AuditActor, AuditLog } from '@enclave/audit';
import { GroupsRepository, GroupsService, UsersRepository } from '@enclave/auth';
import { type Config, loadConfigOrExit } from '@enclave/config';
import { withMigratedDatabase } from './database.js';

let loaded: Config | null = null;
const config = (): Config => (loaded ??= loadConfigOrExit());

const CLI_ACTOR: AuditActor = { type: 'system', label: 'cli' };

function groupsOn(ds: DataSource) {
  const users = new UsersRepository(ds);
  return {
    users,
    groups: new GroupsService(ds, new GroupsRepository(ds), users, new AuditLog()),
  };
}

async function userId(users: UsersRepository, email: string): Promise<string> {
  const user = await users.findByEmail(email);
  if (!user) throw new Error(`no user with email ${email.trim().toLowerCase()}`);
  return user.id;
}

/** `enclave group …`: groups (teams, departments) and their members, each change audited. */
export function registerGroupCommands(program: Command): void {
  const group = program.command('group').description('manage groups and their members');

  group
    .command('list')
    .description('list groups: name, members, description')
    .action(async () => {
      await withMigratedDatabase(config(), async (ds) => {
        for (const g of await groupsOn(ds).groups.list()) {
          console.log(`${g.name}\t${g.memberCount}\t${g.description ?? ''}`);
        }
      });
    });

  group
    .command('create <name>')
    .description('create a group')
    .option('--description <text>', 'what the group is')
    .action(async (name: string, opts: { description?: string }) => {
      await withMigratedDatabase(config(), async (ds) => {
        const g = await groupsOn(ds).groups.create(
          { name, description: opts.description ?? null },
          CLI_ACTOR,
          null,
        );
        console.log(`created group ${g.name}`);
      });
    });

  group
    .command('add-member <group> <email>')
    .description('add a user to a group (by the group name and the user email)')
    .action(async (name: string, email: string) => {
      await withMigratedDatabase(config(), async (ds) => {
        const { users, groups } = groupsOn(ds);
        const g = await groups.byName(name);
        await groups.addMember(g.id, await userId(users, email), CLI_ACTOR, null);
        console.log(`${email.trim().toLowerCase()} is in ${g.name}`);
      });
    });

  group
    .command('remove-member <group> <email>')
    .description('remove a user from a group')
    .action(async (name: string, email: string) => {
      await withMigratedDatabase(config(), async (ds) => {
        const { users, groups } = groupsOn(ds);
        const g = await groups.byName(name);
        await groups.removeMember(g.id, await userId(users, email), CLI_ACTOR, null);
        console.log(`${email.trim().toLowerCase()} left ${g.name}`);
      });
    });

  group
    .command('members <group>')
    .description('list the members of a group: email, how they joined (manual or sso)')
    .action(async (name: string) => {
      await withMigratedDatabase(config(), async (ds) => {
        const { groups } = groupsOn(ds);
        const g = await groups.get((await groups.byName(name)).id);
        for (const m of g.members) console.log(`${m.email}\t${m.via}`);
      });
    });
}
