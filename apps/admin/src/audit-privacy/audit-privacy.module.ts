import { Module } from '@nestjs/common';
import { AuthModule } from '@enclave/auth';
import { AuditPrivacyController } from './audit-privacy.controller.js';

/** Legal holds and the right to erasure, for admins. */
@Module({ imports: [AuthModule], controllers: [AuditPrivacyController] })
export class AuditPrivacyModule {}
