import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INDUSTRIAL_MACHINE } from '../../../lambdas/core/catalog/models.ts';
import { replayFeatures } from '../../../ml/features/replay.ts';
import {
  AZURE_ERRORS,
  AzureParseError,
  type AzureData,
  errorCounts,
  HOUR_MS,
  labelWithin,
  loadAzure,
  machineAsset,
  machineEvents,
  parseAzureTime,
  parseFailures,
  parseMachines,
  parseMaint,
  parseTelemetry,
  timeToNext,
} from '../../../ml/datasets/azure.ts';

const TELE = 'datetime,machineID,volt,rotate,pressure,vibration';
const H = (s: string) => parseAzureTime(s);

describe('Azure PdM parsers', () => {
  it('parses telemetry as UTC hours, tolerating CRLF', () => {
    const rows = parseTelemetry(`${TELE}\r\n2015-01-01 06:00:00,1,176.2,418.5,113.1,45.1\r\n`);
    expect(rows).toEqual([
      {
        ts: Date.UTC(2015, 0, 1, 6),
        machineId: 1,
        readings: { volt: 176.2, rotate: 418.5, pressure: 113.1, vibration: 45.1 },
      },
    ]);
  });

  it('parses event and machine tables', () => {
    expect(parseMaint('datetime,machineID,comp\n2014-06-01 06:00:00,3,comp2\n')[0]).toEqual({
      ts: Date.UTC(2014, 5, 1, 6),
      machineId: 3,
      what: 'comp2',
    });
    expect(parseMachines('machineID,model,age\n1,model3,18\n')).toEqual([{ machineId: 1, model: 'model3', age: 18 }]);
  });

  it.each([
    () => parseTelemetry('datetime,machine,volt,rotate,pressure,vibration\n'),
    () => parseTelemetry(`${TELE}\n2015-01-01 06:00,1,1,2,3,4`),
    () => parseTelemetry(`${TELE}\n2015-01-01 06:00:00,1,1,x,3,4`),
    () => parseTelemetry(`${TELE}\n2015-01-01 06:00:00,0,1,2,3,4`),
    () => parseTelemetry(`${TELE}\n2015-01-01 06:00:00,1,1,2,3`),
    () => parseFailures('datetime,machineID,failure\n2015-01-01 06:00:00,1,comp9'),
    () => parseMachines('machineID,model,age\n1,model3,-2'),
    () => parseTelemetry(''),
  ])('rejects malformed tables with a named error (%#)', (bad) => {
    expect(bad).toThrow(AzureParseError);
  });

  it('names the table and line of the problem', () => {
    expect(() => parseTelemetry(`${TELE}\n2015-01-01 06:00:00,1,1,2,3,4\n2015-01-01 07:00:00,1,1,2,,4`)).toThrow(
      'Azure PdM telemetry line 3: pressure is not a number: ""',
    );
  });
});

describe('labelWithin', () => {
  it('labels only rows whose future 24 h holds the failure', () => {
    // Hourly rows 00:00…47:00 of one machine; one failure at 30:00.
    const t0 = Date.UTC(2015, 0, 1);
    const times = Array.from({ length: 48 }, (_, i) => t0 + i * HOUR_MS);
    const labels = labelWithin(times, [t0 + 30 * HOUR_MS], 24 * HOUR_MS);
    const positive = [...labels.keys()].filter((i) => labels[i] === 1);
    // Point in time: hours 6…29 see the failure within (t, t + 24 h]; the failure hour and later do not.
    expect(positive).toEqual(Array.from({ length: 24 }, (_, k) => 6 + k));
  });

  it('agrees with a brute-force definition', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 50 }),
        (times, events, h) => {
          const got = Array.from(labelWithin(times, events, h));
          const want = times.map((t) => (events.some((f) => f > t && f <= t + h) ? 1 : 0));
          expect(got).toEqual(want);
          const ttf = Array.from(timeToNext(times, events));
          const wantTtf = times.map((t) => Math.min(...events.filter((f) => f > t).map((f) => f - t)));
          expect(ttf).toEqual(wantTtf);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('machineEvents', () => {
  const data: AzureData = {
    telemetry: [0, 1, 2].map((i) => ({
      machineId: 7,
      ts: H('2015-01-02 02:00:00') + i * HOUR_MS,
      readings: { volt: 170, rotate: 450, pressure: 100, vibration: 40 },
    })),
    errors: [],
    maint: [
      { machineId: 7, ts: H('2014-12-01 06:00:00'), what: 'comp1' },
      { machineId: 7, ts: H('2015-01-02 03:00:00'), what: 'comp2' },
      { machineId: 8, ts: H('2015-01-02 03:00:00'), what: 'comp3' },
      { machineId: 7, ts: H('2015-02-01 06:00:00'), what: 'comp4' },
    ],
    failures: [
      { machineId: 7, ts: H('2015-01-02 03:00:00'), what: 'comp2' },
      { machineId: 7, ts: H('2015-01-02 03:00:00'), what: 'comp3' },
    ],
    machines: [],
    sha256: '',
    dataDir: '',
  };

  it('orders history, puts the sample before the replacement of its hour, and turns failures into replacements', () => {
    const ev = machineEvents(data, 7);
    expect(ev.map((e) => (e.kind === 'sample' ? `s${e.seq}` : `m:${e.component}`))).toEqual([
      'm:comp1',
      's1',
      's2',
      'm:comp2',
      'm:comp3',
      's3',
    ]);
    expect(ev.every((e) => e.kind !== 'maintenance' || e.action === 'replacement')).toBe(true);
  });

  it('puts the errors of an hour before its sample, numbers them over the whole log and maps their component', () => {
    // Arrange
    const withErrors: AzureData = {
      ...data,
      errors: [
        { machineId: 7, ts: H('2015-01-02 03:00:00'), what: 'error4' },
        { machineId: 7, ts: H('2015-01-02 03:00:00'), what: 'error1' },
        { machineId: 8, ts: H('2015-01-02 03:00:00'), what: 'error2' },
        { machineId: 7, ts: H('2014-12-01 00:00:00'), what: 'error5' },
        { machineId: 7, ts: H('2015-01-09 00:00:00'), what: 'error3' },
      ],
    };
    // Act
    const ev = machineEvents(withErrors, 7);
    // Assert: the December error is older than the longest window before the first hour, the
    // January 9 one is after the last hour; seqs count the machine's whole log in time order.
    expect(
      ev.map((e) => (e.kind === 'sample' ? `s${e.seq}` : e.kind === 'event' ? `e${e.seq}:${e.code}>${e.component}` : `m:${e.component}`)),
    ).toEqual(['m:comp1', 's1', 'e2:error1>comp1', 'e3:error4>comp3', 's2', 'm:comp2', 'm:comp3', 's3']);
  });
});

describe('Azure errors through the product features', () => {
  it('count each error code over exactly the last 24 hours, as the Modelling Guide does, on real data', () => {
    // Arrange
    const all = loadAzure('../shared/data/azure_pdm');
    const machines = [1, 2, 3];
    for (const id of machines) {
      const asset = machineAsset(all.machines.find((m) => m.machineId === id), id);
      // Act
      const { rows, names, eventsQuarantined } = replayFeatures(INDUSTRIAL_MACHINE, asset, machineEvents(all, id));
      const times = rows.map((r) => r.t);
      const reference = errorCounts(
        times,
        all.errors.filter((e) => e.machineId === id),
        24 * HOUR_MS,
      );
      // Assert
      expect(eventsQuarantined).toBe(0);
      let seen = 0;
      AZURE_ERRORS.forEach((code, k) => {
        const col = names.indexOf(`events_${code}_24h`);
        expect(col, code).toBeGreaterThan(0);
        rows.forEach((row, i) => {
          expect(row.vector[col], `${code} machine ${id} row ${i}`).toBe(reference[k]![i]);
          seen += row.vector[col]!;
        });
      });
      expect(seen).toBeGreaterThan(0);
    }
  });
});
