/**
 * Registers the bundle at argv[3] into the registry at argv[2], argv[4] times: spawned twice at once by
 * the store test to race two registrations. Prints the ids it got, one per line.
 */
import { registerBundle } from '../../../ml/registry/store.ts';

const [registry, bundle, times] = process.argv.slice(2);
for (let i = 0; i < Number(times); i++) {
  const { versions } = registerBundle(registry!, bundle!, { source: () => ({ kind: 'train', seed: 1 }), git: { commit: null, dirty: null } });
  for (const v of versions) process.stdout.write(`${v.id}\n`);
}
