import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_SCHEMA, TELEMETRY_SCHEMA } from '../../lambdas/core/contract/telemetry.ts';
import { eventsTopic, telemetryTopic } from '../../lambdas/core/contract/topics.ts';
import { historyDirOf, ParquetHistoryStore } from '../../lambdas/adapters/local/history-parquet.ts';
import { startLocalRuntime } from '../../local/runtime/runtime.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('local runtime: device events (end to end)', () => {
  it('takes a device’s events through the broker, cleaning and screening into its twin’s counts and recent events', async () => {
    // Arrange: one Azure-style machine and no models (an empty model folder): this is about the events path.
    const models = mkdtempSync(join(tmpdir(), 'pdm-no-models-'));
    dirs.push(models);
    const asset = { assetId: 'machine-1', siteId: 'azure-pdm', modelId: 'industrial-machine' };
    const dataDir = mkdtempSync(join(tmpdir(), 'pdm-events-data-'));
    dirs.push(dataDir);
    const rt = await startLocalRuntime({ fleetAssets: [asset], modelDir: models, dataDir, logLevel: 'SILENT' });
    const T0 = Date.UTC(2015, 0, 5, 6);
    const HOUR = 3_600_000;
    const eTopic = eventsTopic(asset.siteId, asset.assetId);
    const tTopic = telemetryTopic(asset.siteId, asset.assetId);
    try {
      // Act: hourly telemetry; errors in hours 2 and 5; a re-sent error, an unlisted code and a bad severity.
      for (let h = 0; h < 8; h++) {
        const ts = T0 + h * HOUR;
        rt.setClock(ts + 1_000);
        if (h === 2) {
          await rt.publishAs(asset.assetId, eTopic, JSON.stringify({ schema: EVENT_SCHEMA, assetId: asset.assetId, ts, seq: 1, code: 'error1', severity: 'warning' }));
        }
        if (h === 5) {
          const events = [
            { ts, seq: 1, code: 'error1', severity: 'warning' },
            { ts, seq: 2, code: 'error4', severity: 'warning' },
            { ts, seq: 3, code: 'PLC-7', severity: 'info' },
            { ts, seq: 4, code: 'error2', severity: 'fatal' },
          ];
          await rt.publishAs(asset.assetId, eTopic, JSON.stringify({ schema: EVENT_SCHEMA, assetId: asset.assetId, events }));
        }
        if (h === 6) {
          // A device resending an event it already sent: a message with nothing new in it.
          await rt.publishAs(asset.assetId, eTopic, JSON.stringify({ schema: EVENT_SCHEMA, assetId: asset.assetId, ts, seq: 2, code: 'error4', severity: 'warning' }));
        }
        const readings = { volt: 170 + h, rotate: 450 - h, pressure: 100 + h / 2, vibration: 40 + h / 3 };
        await rt.publishAs(asset.assetId, tTopic, JSON.stringify({ schema: TELEMETRY_SCHEMA, assetId: asset.assetId, ts, seq: h + 1, readings }));
      }
      await rt.drain(60_000);
      const twin = await rt.twin(asset.assetId);
      const summary = await rt.summary();
      // Assert
      expect(twin!.events!.map((e) => [e.seq, e.code, e.component])).toEqual([
        [1, 'error1', 'comp1'],
        [2, 'error4', 'comp3'],
        [3, 'PLC-7', undefined],
      ]);
      expect(twin!.features.e.n).toBe(3);
      expect(summary.byReason.invalid_event).toBe(1);
      // The two resent events are screened out next to the twin and counted in the run summary; the
      // message that held only a resend moves from accepted to quarantined. 8 telemetry + 3 event messages.
      expect(twin!.eventScreen?.highestSeq).toBe(3);
      expect(summary.byReason.duplicate_seq).toBe(2);
      expect(summary.messages).toEqual({ received: 11, accepted: 10, quarantined: 1 });
      expect(summary.refused.publishes).toBe(0);
    } finally {
      await rt.stop();
    }
    // The device events reached the history's `events` table (a resend shares its asset and seq).
    const history = await ParquetHistoryStore.open({ dir: historyDirOf(dataDir) });
    try {
      const rows = await history.query('select distinct seq, code from events order by seq');
      expect(rows.map((r) => [Number(r.seq), r.code])).toEqual([
        [1, 'error1'],
        [2, 'error4'],
        [3, 'PLC-7'],
      ]);
    } finally {
      await history.close();
    }
  }, 120_000);
});
