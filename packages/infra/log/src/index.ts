export { createLogger, type RoleLogger, type LoggerOptions, type LogLevel } from './logger.ts';
export {
  allowedFields,
  type Role,
  type FieldsOf,
  type CommonFields,
  type IngressFields,
  type EgressFields,
  type ClientFields,
  type IssuerFields,
} from './fields.ts';
