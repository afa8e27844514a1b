export {
  closure,
  forbiddenIn,
  importSpecifiers,
  packageOf,
  runtimeImports,
  workspacePackages,
  type WorkspacePackage,
} from './graph.ts';
export { ISOLATION_RULES, type IsolationRule } from './rules.ts';
