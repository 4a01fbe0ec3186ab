import { type DynamicModule, Module } from '@nestjs/common';
import type { Config } from '@enclave/config';
import { PlatformModule, SpaModule } from '@enclave/server';
import { AdminUsersModule } from './users/users.module.js';
import { BackendsModule } from './backends/backends.module.js';
import { QuotasModule } from './quotas/quotas.module.js';
import { AdminFeedbackModule } from './feedback/feedback.module.js';
import { PoliciesModule } from './policies/policies.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { AdminConversationsModule } from './conversations/conversations.module.js';
import { AdminAuditModule } from './audit/audit.module.js';
import { AuditPrivacyModule } from './audit-privacy/audit-privacy.module.js';
import { AdminPresetsModule } from './presets/presets.module.js';
import { TeamsModule } from './teams/teams.module.js';

/** The admin app: the admin API and console. */
@Module({})
export class AdminAppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AdminAppModule,
      imports: [
        PlatformModule.forRoot(config, 'admin'),
        AdminUsersModule,
        BackendsModule,
        QuotasModule,
        AdminFeedbackModule,
        PoliciesModule,
        DashboardModule,
        AdminConversationsModule,
        AdminAuditModule,
        AuditPrivacyModule,
        AdminPresetsModule,
        TeamsModule,
        // Last: its catch-all page route comes after every API route.
        SpaModule.forRoot({
          name: 'admin console',
          buildDir: 'dist/apps/admin/web',
          mount: '/admin',
        }),
      ],
    };
  }
}
