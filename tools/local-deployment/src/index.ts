export {
  prepareDeployment,
  type Deployment,
  type DeploymentSpec,
  type EgressSpec,
  type IssuerMaterial,
  type SignedEntryInput,
} from './deployment.ts';
export {
  mergeConfig,
  type ClientPeers,
  type ConfigOverrides,
  type RoleConfig,
  type RoleConfigs,
} from './configs.ts';
export {
  startApp,
  records,
  listenPort,
  signManifest,
  type AppName,
  type AppOptions,
  type RunningApp,
} from './apps.ts';
export {
  spawnProcess,
  startProcess,
  type LogRecord,
  type ProcessOptions,
  type RunningProcess,
  type StartOptions,
  type StartedProcess,
} from './processes.ts';
export {
  cpuSeconds,
  fdLimits,
  processTree,
  pssKiB,
  rssKiB,
  treeCpuSeconds,
  treePssKiB,
  treeRssKiB,
  treeUserSystem,
} from './proc-stats.ts';
export { freePort } from './free-port.ts';
