import { startWorld, ADDR } from './kit/world.ts';
import { echoTarget } from './kit/targets.ts';
import { sdkClient } from './kit/sdk-client.ts';
import { run } from './kit/run.ts';
const w = await startWorld({ logLevel: 'info' });
const echo = await echoTarget(ADDR.target);
for (let i = 0; i < 3; i++) {
  const c = sdkClient(w);
  let t = performance.now();
  const f = await c.connect({ host: ADDR.target, port: echo.port });
  console.log('cold flow', (performance.now() - t).toFixed(1), 'ms');
  f.destroy();
  t = performance.now();
  const f2 = await c.connect({ host: ADDR.target, port: echo.port });
  console.log('warm flow', (performance.now() - t).toFixed(1), 'ms');
  f2.destroy();
  c.close();
}
let t = performance.now();
const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{time_connect} %{time_starttransfer}', '--proxy', `socks5h://127.0.0.1:${w.socksPort}`, `http://${ADDR.target}:${echo.port}/`, '--max-time', '3']);
console.log('curl', r, performance.now() - t);
await echo.close(); await w.stop(); await w.cleanup();
