export {
  loadDirectoryFile,
  readSignedEntries,
  readTrustedKeys,
  type OperatorKeyFile,
} from './file-source.ts';
