import { z } from 'zod';
import { line, text } from './text.js';

// Teams (issue 20): groups, model access by group, prices, budgets and usage reports, as the
// admin API takes and gives them; `MyUsage` is the chat UI's.

const Time = z.string();
const modelName = line().trim().min(1).max(256);

// --- Groups --------------------------------------------------------------------------------

export const Group = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  memberCount: z.number(),
  createdAt: Time,
  updatedAt: Time,
});
export type Group = z.infer<typeof Group>;

export const GroupMember = z.object({
  userId: z.string(),
  email: z.string(),
  via: z.enum(['manual', 'sso']),
  since: Time,
});
export type GroupMember = z.infer<typeof GroupMember>;

export const GroupDetail = Group.extend({ members: z.array(GroupMember) });
export type GroupDetail = z.infer<typeof GroupDetail>;

/** `POST /api/admin/groups` */
export const CreateGroupBody = z.strictObject({
  name: line().trim().min(1, 'give the group a name').max(100),
  description: text().trim().max(1000).nullable().optional(),
});
export type CreateGroupBody = z.infer<typeof CreateGroupBody>;

/** `PATCH /api/admin/groups/:id` */
export const UpdateGroupBody = z
  .strictObject({
    name: line().trim().min(1).max(100).optional(),
    description: text().trim().max(1000).nullable().optional(),
  })
  .refine((b) => b.name !== undefined || b.description !== undefined, {
    message: 'send name, description or both',
  });
export type UpdateGroupBody = z.infer<typeof UpdateGroupBody>;

// --- Model access and prices ---------------------------------------------------------------

/** A model (or alias) the backends serve, with the groups it is open to and its price. */
export const ModelEntitlement = z.object({
  model: z.string(),
  /** Empty: open to everyone. */
  groupIds: z.array(z.string()),
  price: z
    .object({
      inputPerMillion: z.number(),
      outputPerMillion: z.number(),
      currency: z.string(),
      setAt: Time,
    })
    .nullable(),
});
export type ModelEntitlement = z.infer<typeof ModelEntitlement>;

export const ModelEntitlements = z.object({
  currency: z.string(),
  models: z.array(ModelEntitlement),
});
export type ModelEntitlements = z.infer<typeof ModelEntitlements>;

/** `PUT /api/admin/model-access`: an empty list opens the model to everyone. */
export const ModelAccessBody = z.strictObject({
  model: modelName,
  groupIds: z.array(z.uuid()).max(1000),
});
export type ModelAccessBody = z.infer<typeof ModelAccessBody>;

const money = z.number().nonnegative().max(1e12);

/** `PUT /api/admin/prices`: per million tokens, in the configured currency. */
export const PriceBody = z.strictObject({
  model: modelName,
  inputPerMillion: money,
  outputPerMillion: money,
});
export type PriceBody = z.infer<typeof PriceBody>;

export const ModelPrice = z.object({
  id: z.number(),
  model: z.string(),
  inputPerMillion: z.number(),
  outputPerMillion: z.number(),
  currency: z.string(),
  setAt: Time,
});
export type ModelPrice = z.infer<typeof ModelPrice>;

// --- Budgets -------------------------------------------------------------------------------

export const BudgetScope = z.enum(['group', 'user', 'api_key']);
export const BudgetUnit = z.enum(['tokens', 'money']);
export const BudgetPeriod = z.enum(['day', 'month']);

/** `PUT /api/admin/budgets`: one per subject, unit and period; setting it again changes it. */
export const BudgetBody = z
  .strictObject({
    scope: BudgetScope,
    subjectId: z.uuid(),
    unit: BudgetUnit,
    period: BudgetPeriod,
    // Stored as numeric(20, 6) and counted in millionths of the currency in a bigint counter:
    // below one millionth rounds to nothing, above 1e12 a money budget overflows the counter.
    limit: z.number().min(0.000001).max(1e12),
  })
  .refine((b) => b.unit === 'money' || Number.isInteger(b.limit), {
    message: 'a token budget is a whole number of tokens',
    path: ['limit'],
  });
export type BudgetBody = z.infer<typeof BudgetBody>;

export const Budget = z.object({
  id: z.string(),
  scope: BudgetScope,
  subjectId: z.string(),
  /** The group's name, the user's email or the key's prefix, for people. */
  subjectLabel: z.string().nullable(),
  unit: BudgetUnit,
  period: BudgetPeriod,
  limit: z.number(),
});
export type Budget = z.infer<typeof Budget>;

// --- Usage reports -------------------------------------------------------------------------

export const UsageDimension = z.enum(['group', 'user', 'model', 'day']);
export type UsageDimension = z.infer<typeof UsageDimension>;

export const UsageReportRow = z.object({
  /** Group id, user id, model or day; null: requests of users in no group. */
  key: z.string().nullable(),
  /** The group's name or the user's email (the key itself for models and days). */
  label: z.string(),
  requests: z.number(),
  promptTokens: z.number(),
  completionTokens: z.number(),
  cost: z.number(),
});
export type UsageReportRow = z.infer<typeof UsageReportRow>;

export const UsageReport = z.object({
  by: UsageDimension,
  from: z.string(),
  to: z.string(),
  currency: z.string(),
  rows: z.array(UsageReportRow),
});
export type UsageReport = z.infer<typeof UsageReport>;

/** `GET /api/me/usage` (chat app): the signed-in user's own usage by day and by model. */
export const MyUsage = z.object({
  from: z.string(),
  to: z.string(),
  currency: z.string(),
  byDay: z.array(UsageReportRow),
  byModel: z.array(UsageReportRow),
});
export type MyUsage = z.infer<typeof MyUsage>;
