export { runApp, type AppSpec, type Running } from './run-app.ts';
export { serveHealth, type HealthRoute, type HealthSnapshot } from './health-server.ts';
