export { ROLES, type Role, isRole } from '@enclave/contracts';
