export { parseConfig, loadConfigFile, deepFreeze, ConfigError, type DeepReadonly } from './load.ts';
export {
  listenAddress,
  isLoopbackAddress,
  relayId,
  dnsName,
  durationMs,
  filePath,
  logLevel,
  splitHostPort,
  controlPlaneFields,
  healthEndpoint,
  manifestConfig,
  manifestFields,
} from './fields.ts';
export { schemaReference } from './docs.ts';
export { cliArgs, configPathFromArgv, readPem } from './argv.ts';
