// The cluster database's public surface.

export { ClusterDatabase, validateCommand } from './database.js';
export type { ApplyResult } from './database.js';
export { encodeCommand } from './commands.js';
export type {
  ClusterCommand, CommandEnvelope, CommandType, DurationInput, GroupSettingsInput, ParameterSpecInput,
  ResourceSettingsInput, RestartPolicyInput,
} from './commands.js';
export { COMMAND_TYPES } from './validate.js';
export type { AuditRecord, HistoryQuery } from './audit.js';
export { DbError } from './report.js';
export type { Report, ReportCode, Severity } from './report.js';
export { PROPERTY_DEFS, PROPERTY_KEYS, checkTiming, effectiveProperties, propertyDefaults } from './properties.js';
export type { ClusterProperties, Fencing, Profile, PropertyDef, PropertyKey } from './properties.js';
export {
  NAME_MAX_LENGTH, formatDuration, formatWitnessSpec, parseAddress, parseDuration, parseWitnessSpec, validateName,
} from './names.js';
export type { DurationResult } from './names.js';
export { RESERVED_WORDS, dependencyHolds, dependencyNames, findCycle, formatDependency, parseDependency } from './dependency.js';
export type { DependencyExpr, DependencyParse } from './dependency.js';
export { RESOURCE_STATES, RESOURCE_TRANSITIONS } from './cmd-placement.js';
export { canonicalJson, fnv1a64 } from './canonical.js';
export { allSteps } from './snapshot.js';
export type { Steps } from './snapshot.js';
export type * from './schema.js';
