/**
 * The target of the Oblivious HTTP load bench, in its own process: plain HTTP/1.1 on the
 * target address, a small JSON answer to every request. Prints `{"port":N}` once listening.
 *
 *   node bench/src/kit/ohttp-origin.ts <host>
 */
import http from 'node:http';

const body = Buffer.from(JSON.stringify({ ok: true, data: 'x'.repeat(180) }));
const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, process.argv[2] ?? '127.0.4.1', () => {
  process.stdout.write(
    `${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`,
  );
});
process.on('SIGTERM', () => process.exit(0));
