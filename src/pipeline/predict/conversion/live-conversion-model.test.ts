import { describe, expect, it } from 'vitest';
import type { ModelVersion } from '../../../ports/model-store.js';
import {
  conversionVersionIn,
  createLiveConversionModel,
  recentModelsRead,
} from './live-conversion-model.js';

const aVersion = (version: number, kind: string, status: ModelVersion['status']): ModelVersion => ({
  version,
  kind,
  status,
  reason: status === 'trained' ? null : 'not enough data',
  trainedAtMs: version,
  windowStartMs: null,
  windowEndMs: version,
  features: [],
  params: status === 'trained' ? { email: { alpha: 2, beta: 38 } } : {},
  metrics: {},
  details: {},
});

describe('the conversion version in use', () => {
  // Newest first, as the registry lists them: this week's run was refused.
  const registry = [
    aVersion(6, 'conversion', 'insufficient-data'),
    aVersion(5, 'churn', 'trained'),
    aVersion(3, 'conversion', 'trained'),
  ];

  it('is the latest trained conversion run, so a refused run leaves the one before it in use', () => {
    expect(conversionVersionIn(registry)?.version).toBe(3);
    expect(conversionVersionIn(registry.slice(0, 2))).toBeNull();
  });

  it('is the one the decide stage scores with', async () => {
    const limits: number[] = [];
    const live = createLiveConversionModel({
      listModels: (limit) => {
        limits.push(limit);
        return Promise.resolve(registry.slice(0, limit));
      },
    });
    await live.refresh();
    expect(limits).toEqual([recentModelsRead]);
    expect(live.score({ email: { sends: 10, conversions: 4 } })).toEqual({
      modelVersion: 3,
      byChannel: { email: 6 / 50 },
    });
  });
});
