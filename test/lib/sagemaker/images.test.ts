import { describe, expect, it } from 'vitest';
import { UnsupportedRegionError, XGBOOST_IMAGE_TAG, XGBOOST_REGISTRY_ACCOUNTS, xgboostImageUri } from '../../../lib/sagemaker/images.ts';

describe('xgboostImageUri', () => {
  it('builds the registry path of the pinned built-in XGBoost image', () => {
    // us-east-1's sagemaker-xgboost registry account, as listed in the SageMaker ECR paths documentation.
    expect(xgboostImageUri('us-east-1')).toBe('683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5');
    expect(XGBOOST_IMAGE_TAG).toBe('3.0-5');
  });

  it('uses the amazonaws.com.cn domain in the China regions', () => {
    expect(xgboostImageUri('cn-north-1')).toBe('450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:3.0-5');
  });

  it('knows a 12-digit account for every listed region', () => {
    for (const [region, account] of Object.entries(XGBOOST_REGISTRY_ACCOUNTS)) {
      expect(region).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
      expect(account).toMatch(/^\d{12}$/);
    }
  });

  it('fails with a clear error for an unknown region', () => {
    expect(() => xgboostImageUri('mars-north-1')).toThrow(UnsupportedRegionError);
    expect(() => xgboostImageUri('toString')).toThrow(/in-lambda/);
  });
});
