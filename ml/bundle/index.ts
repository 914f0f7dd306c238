export { type GatedArtifact, gateArtifact } from './gate.ts';
export { dataHasher, sha256Hex } from './hash.ts';
export { DEFAULT_BUNDLE_DIR, readBundle } from './read.ts';
export { type WriteBundleOptions, writeBundle, writeManifestFile } from './write.ts';
