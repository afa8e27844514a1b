export { runApp, type AppSpec, type Running } from './run-app.ts';
export { serveHealth, type HealthSnapshot } from './health-server.ts';
