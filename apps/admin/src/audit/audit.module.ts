import { Module } from '@nestjs/common';
import { AuditEventsRepository } from '@enclave/audit-chain';
import { AuthModule } from '@enclave/auth';
import { AuditController } from './audit.controller.js';
import { AuditExportsService } from './audit-exports.service.js';
import { AuditTrailService } from './audit-trail.service.js';

/** The audit trail in the console: search, status, verification, exports. */
@Module({
  imports: [AuthModule],
  controllers: [AuditController],
  providers: [AuditEventsRepository, AuditTrailService, AuditExportsService],
})
export class AdminAuditModule {}
