export {
  loadDirectoryFile,
  readSignedEntries,
  readTrustedKeys,
  writeDirectoryFile,
  type OperatorKeyFile,
} from './file-source.ts';
