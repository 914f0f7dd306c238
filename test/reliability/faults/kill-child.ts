/**
 * Child process of the kill/restart fault: runs the local runtime on a data dir until the parent
 * kills it with SIGKILL (no `stop`, no final save). Arguments: dataDir, alerts JSONL path, JSON options.
 */
import { startLocalRuntime } from '../../../local/runtime/runtime.ts';

const [dataDir, jsonlPath, optionsJson] = process.argv.slice(2);
if (!dataDir || !jsonlPath || !optionsJson) throw new Error('usage: kill-child.ts <dataDir> <alerts.jsonl> <options json>');
const o = JSON.parse(optionsJson) as { assets: number; seed: number; ticks: number; speed: number };
const rt = await startLocalRuntime({ assets: o.assets, seed: o.seed, dataDir, logLevel: 'SILENT', alerts: { jsonlPath } });
process.stdout.write('ready\n');
await rt.simulate({ speed: o.speed, ticks: o.ticks });
process.stdout.write('finished\n');
