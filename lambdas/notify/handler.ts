/** Lambda entry of the alert formatter (lambdas/notify/app.ts). Settings are read once per container. */
import { SNSClient } from '@aws-sdk/client-sns';
import { ALERT_TOPICS_ENV, createNotifyHandler, DASHBOARD_URL_ENV, parseTopics } from './app.ts';

export const handler = createNotifyHandler({
  sns: new SNSClient({}),
  topics: parseTopics(process.env[ALERT_TOPICS_ENV]),
  dashboardUrl: process.env[DASHBOARD_URL_ENV] || undefined,
});
