import { describe, expect, it } from 'vitest';
import { ALERT_ROUTES } from '../../../lambdas/core/alerts/rules.ts';
import { ConfigError, ENV, parseCleanFunctionEnv, parseFeatureFunctionEnv } from '../../../lambdas/core/config/env.ts';

const cleanEnv = { [ENV.cleanStream]: 'clean', [ENV.quarantineBucket]: 'q', [ENV.assetTable]: 'assets' };
const featureEnv = { [ENV.quarantineBucket]: 'q', [ENV.assetTable]: 'assets', [ENV.twinTable]: 'twins', [ENV.eventBus]: 'bus' };

describe('parseCleanFunctionEnv', () => {
  it('applies defaults: no telemetry store', () => {
    expect(parseCleanFunctionEnv(cleanEnv)[ENV.telemetryStore]).toBe('none');
  });

  it('names every missing variable in one message', () => {
    expect(() => parseCleanFunctionEnv({})).toThrow(/PDM_CLEAN_STREAM.*PDM_QUARANTINE_BUCKET.*PDM_ASSET_TABLE/);
  });

  it('requires the Timestream names when Timestream is on', () => {
    expect(() => parseCleanFunctionEnv({ ...cleanEnv, [ENV.telemetryStore]: 'timestream' })).toThrow(
      /PDM_TIMESTREAM_DATABASE, PDM_TIMESTREAM_TELEMETRY_TABLE/,
    );
  });
});

describe('parseFeatureFunctionEnv', () => {
  it('parses the endpoint map and timeout', () => {
    const env = parseFeatureFunctionEnv({
      ...featureEnv,
      [ENV.scoringMode]: 'endpoint',
      [ENV.endpoints]: '{"turbofan/rul":"pdm-turbofan-rul"}',
      [ENV.endpointTimeoutMs]: '1500',
    });
    expect(env[ENV.endpoints]).toEqual({ 'turbofan/rul': 'pdm-turbofan-rul' });
    expect(env[ENV.endpointTimeoutMs]).toBe(1500);
    expect(env[ENV.modelDir]).toBe('/opt/model');
  });

  it('scores shadow challengers unless told off, and refuses any other value', () => {
    expect(parseFeatureFunctionEnv(featureEnv)[ENV.shadowScoring]).toBe('on');
    expect(parseFeatureFunctionEnv({ ...featureEnv, [ENV.shadowScoring]: 'off' })[ENV.shadowScoring]).toBe('off');
    expect(() => parseFeatureFunctionEnv({ ...featureEnv, [ENV.shadowScoring]: 'false' })).toThrow(/PDM_SHADOW_SCORING/);
  });

  it('rejects endpoint mode without endpoints, a malformed map and a silly timeout', () => {
    expect(() => parseFeatureFunctionEnv({ ...featureEnv, [ENV.scoringMode]: 'endpoint' })).toThrow(ConfigError);
    expect(() => parseFeatureFunctionEnv({ ...featureEnv, [ENV.endpoints]: '[1,2]' })).toThrow(/JSON object/);
    expect(() => parseFeatureFunctionEnv({ ...featureEnv, [ENV.endpointTimeoutMs]: '5' })).toThrow(/PDM_ENDPOINT_TIMEOUT_MS/);
  });
});

describe('ALERT_ROUTES', () => {
  it('routes critical and warning severities to their topics and every change to the log', () => {
    expect(ALERT_ROUTES.map((r) => [r.id, r.target])).toEqual([
      ['CriticalAlerts', 'critical-topic'],
      ['WarningAlerts', 'warning-topic'],
      ['AllTransitions', 'transitions-log'],
    ]);
    for (const route of ALERT_ROUTES) {
      expect(route.pattern).toMatchObject({ source: ['pdm.twin'], 'detail-type': ['TwinHealthChanged'] });
    }
  });
});

describe('history streams setting', () => {
  const base = { PDM_CLEAN_STREAM: 'c', PDM_QUARANTINE_BUCKET: 'q', PDM_ASSET_TABLE: 'a' };

  it('parses a map of history tables to stream names, and none by default', () => {
    expect(parseCleanFunctionEnv(base)[ENV.historyStreams]).toEqual({});
    const env = parseCleanFunctionEnv({ ...base, [ENV.historyStreams]: '{"telemetry":"pdm-dev-history-telemetry"}' });
    expect(env[ENV.historyStreams]).toEqual({ telemetry: 'pdm-dev-history-telemetry' });
  });

  it('rejects an unknown table or malformed JSON with a ConfigError', () => {
    expect(() => parseCleanFunctionEnv({ ...base, [ENV.historyStreams]: '{"bogus":"x"}' })).toThrow(/PDM_HISTORY_STREAMS/);
    expect(() => parseCleanFunctionEnv({ ...base, [ENV.historyStreams]: 'not json' })).toThrow(/PDM_HISTORY_STREAMS/);
  });
});
