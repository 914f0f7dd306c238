/**
 * Inference image of the SageMaker built-in XGBoost algorithm, per region. We pin `3.0-5` because it
 * bundles xgboost 3.0.5, which reads the JSON models our trainer writes and applies no
 * `best_ntree_limit` (see shared notes, xgboost-model-format §5).
 *
 * Registry accounts: the `sagemaker-xgboost` repository's `registries` table in the SageMaker Python
 * SDK (`src/sagemaker/image_uri_config/xgboost.json`, aws/sagemaker-python-sdk), the same accounts the
 * per-region "Docker Registry Paths and Example Code" pages of the SageMaker developer guide list for
 * XGBoost (docs.aws.amazon.com/sagemaker/latest/dg-ecr-paths/ecr-<region>.html). The account is the
 * same for every container version of the repository (0.90-1 … 1.7-1 in the SDK table); check a new
 * region there before adding it.
 */

/** The pinned built-in XGBoost container version. */
export const XGBOOST_IMAGE_TAG = '3.0-5';
const REPOSITORY = 'sagemaker-xgboost';

export const XGBOOST_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '510948584623',
  'ap-east-1': '651117190479',
  'ap-northeast-1': '354813040037',
  'ap-northeast-2': '366743142698',
  'ap-northeast-3': '867004704886',
  'ap-south-1': '720646828776',
  'ap-south-2': '628508329040',
  'ap-southeast-1': '121021644041',
  'ap-southeast-2': '783357654285',
  'ap-southeast-3': '951798379941',
  'ap-southeast-4': '106583098589',
  'ca-central-1': '341280168497',
  'ca-west-1': '190319476487',
  'cn-north-1': '450853457545',
  'cn-northwest-1': '451049120500',
  'eu-central-1': '492215442770',
  'eu-central-2': '680994064768',
  'eu-north-1': '662702820516',
  'eu-south-1': '978288397137',
  'eu-south-2': '104374241257',
  'eu-west-1': '141502667606',
  'eu-west-2': '764974769150',
  'eu-west-3': '659782779980',
  'il-central-1': '898809789911',
  'me-central-1': '272398656194',
  'me-south-1': '801668240914',
  'sa-east-1': '737474898029',
  'us-east-1': '683313688378',
  'us-east-2': '257758044811',
  'us-gov-east-1': '237065988967',
  'us-gov-west-1': '414596584902',
  'us-west-1': '746614075791',
  'us-west-2': '246618743249',
};

export class UnsupportedRegionError extends Error {
  constructor(region: string) {
    super(
      `no SageMaker built-in XGBoost registry is known for region "${region}"; ` +
        `add it to lib/sagemaker/images.ts or set pdm.scoring.mode to "in-lambda"`,
    );
    this.name = 'UnsupportedRegionError';
  }
}

/** The full image URI of the built-in XGBoost inference container in `region`. */
export function xgboostImageUri(region: string, tag: string = XGBOOST_IMAGE_TAG): string {
  const account = Object.hasOwn(XGBOOST_REGISTRY_ACCOUNTS, region) ? XGBOOST_REGISTRY_ACCOUNTS[region] : undefined;
  if (account === undefined) throw new UnsupportedRegionError(region);
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${account}.dkr.ecr.${region}.${domain}/${REPOSITORY}:${tag}`;
}
