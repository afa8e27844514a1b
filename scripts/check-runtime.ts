// Refuses to run on anything but Node 26: package scripts get it from the `node` dev
// dependency, so a different version means the setup did not happen as documented.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 26) {
  process.stderr.write(
    `SplitRelay needs Node 26 (found ${process.version}); run ./run.sh test or ./run.sh demo.\n`,
  );
  process.exit(1);
}
