export { loadDirectoryFile, readTrustedKeys, type OperatorKeyFile } from './file-source.ts';
