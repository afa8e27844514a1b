export {
  prepareDeployment,
  issuerBaseConfig,
  ingressTokenKey,
  type Deployment,
  type DeploymentSpec,
  type EgressSpec,
  type IssuerMaterial,
  type SignedEntryInput,
} from './deployment.ts';
export { startApp, records, signManifest, type RunningApp, type AppName } from './processes.ts';
export { freePort } from './free-port.ts';
