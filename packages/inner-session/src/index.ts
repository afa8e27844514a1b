export { openInnerSession, type InnerSession, type InnerSessionOptions } from './client.ts';
export {
  createInnerSessionServer,
  type InnerSessionServer,
  type InnerSessionServerOptions,
} from './server.ts';
