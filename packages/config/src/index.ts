export { parseConfig, loadConfigFile, deepFreeze, ConfigError, type DeepReadonly } from './load.ts';
export { listenAddress, durationMs, filePath, logLevel, splitHostPort } from './fields.ts';
export { schemaReference } from './docs.ts';
export { configPathFromArgv, readPem } from './argv.ts';
