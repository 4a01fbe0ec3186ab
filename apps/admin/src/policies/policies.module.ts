import { Module } from '@nestjs/common';
import { PolicyModule } from '@enclave/policy';
import { PoliciesController } from './policies.controller.js';
import { PoliciesService } from './policies.service.js';

/** The runtime policies, set from the console. */
@Module({
  imports: [PolicyModule],
  controllers: [PoliciesController],
  providers: [PoliciesService],
})
export class PoliciesModule {}
