/** The demo's HTTPS target: a page that shows which address it was reached from. */
import https from 'node:https';
import { readFileSync } from 'node:fs';

export function startDemoTarget(
  host: string,
  port: number,
  cert: string,
  key: string,
): Promise<https.Server> {
  const server = https.createServer(
    { cert: readFileSync(cert), key: readFileSync(key) },
    (req, res) => {
      const peer = req.socket.remoteAddress ?? 'unknown';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-seen-peer': peer });
      res.end(
        `<!doctype html><title>SplitRelay demo</title><h1>Hello through SplitRelay</h1>` +
          `<p>This page was fetched from <code>${peer}</code>: the egress relay's address, not yours.</p>\n`,
      );
    },
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
