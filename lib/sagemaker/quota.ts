/**
 * Synth-time check that serverless endpoints fit the account's SageMaker quotas. A new account gets
 * 5 serverless endpoints and 10 total serverless concurrency, counted on each endpoint's configured
 * `MaxConcurrency` (not on traffic), so 9 endpoints at 5 each would fail the Model stack with
 * ResourceLimitExceeded half-way through a deploy (notes/lifecycle-and-provisioning.md §3: Service
 * Quotas console, quota code L-96300102). Failing the synth instead names the setting and the quota.
 */

export class ServerlessQuotaError extends Error {
  override readonly name: string = 'ServerlessQuotaError';
}

/** Service Quotas code of "total concurrency allocated across all serverless endpoints". */
export const TOTAL_CONCURRENCY_QUOTA_CODE = 'L-96300102';

export interface ServerlessQuota {
  readonly maxEndpoints: number;
  readonly maxTotalConcurrency: number;
}

/** @throws ServerlessQuotaError when `endpoints` × `maxConcurrency` or the endpoint count exceed `quota`. */
export function checkServerlessQuota(endpoints: number, maxConcurrency: number, quota: ServerlessQuota): void {
  const problems: string[] = [];
  if (endpoints > quota.maxEndpoints) {
    problems.push(
      `${endpoints} serverless endpoints (one per predictor of the model bundle) exceed pdm.scoring.serverlessQuota.maxEndpoints = ${quota.maxEndpoints}; ` +
        `request "Maximum number of serverless endpoints" ≥ ${endpoints} in Service Quotas (service SageMaker)`,
    );
  }
  const total = endpoints * maxConcurrency;
  if (total > quota.maxTotalConcurrency) {
    problems.push(
      `${endpoints} endpoints × pdm.scoring.serverlessMaxConcurrency ${maxConcurrency} = ${total} total serverless concurrency exceeds ` +
        `pdm.scoring.serverlessQuota.maxTotalConcurrency = ${quota.maxTotalConcurrency}; request quota ${TOTAL_CONCURRENCY_QUOTA_CODE} ` +
        `("total concurrency across all serverless endpoints") ≥ ${total}, or lower serverlessMaxConcurrency`,
    );
  }
  if (problems.length > 0) {
    throw new ServerlessQuotaError(
      `${problems.join('; ')}. After the increase is granted, raise pdm.scoring.serverlessQuota to match; or keep pdm.scoring.mode "in-lambda" (the default).`,
    );
  }
}
