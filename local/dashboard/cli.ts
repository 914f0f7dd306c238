/**
 * `pdm dashboard --stage S [--region R] [--port P]`: the local dashboard page over a deployed stage,
 * served on 127.0.0.1 with the user's AWS credentials (read-only: the stack's
 * `pdm-<stage>-dashboard-reader` role is enough). `bin/pdm.ts` calls {@link register}.
 */
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { TWIN_DOCUMENT_OPTIONS } from '../../lambdas/adapters/aws/dynamodb.ts';
import { readBundleDir } from '../../lambdas/adapters/model.ts';
import { tcpPort } from '../cli.ts';
import { openHistory } from '../history/source.ts';
import { AwsDashboardSource } from './aws-source.ts';
import { startDashboard } from './server.ts';

export function register(program: Command): void {
  program
    .command('dashboard')
    .description('serve the dashboard on localhost over a deployed stage (DynamoDB twins, Athena history)')
    .requiredOption('--stage <name>', 'deployed stage')
    .option('--region <region>', 'AWS region of the stage (default: your AWS config)')
    .option('--port <n>', 'port on 127.0.0.1 (default 8080; 0 = a free one)', tcpPort, 8080)
    .action(async (opts: { stage: string; region?: string; port: number }, cmd: Command) => {
      try {
        const region = opts.region ? { region: opts.region } : {};
        const history = await openHistory({ stage: opts.stage, ...region });
        const dynamo = new DynamoDBClient(region);
        const source = new AwsDashboardSource({
          stage: opts.stage,
          doc: DynamoDBDocumentClient.from(dynamo, TWIN_DOCUMENT_OPTIONS),
          twinTable: `pdm-${opts.stage}-twins`,
          history: history.engine,
          bundle: readBundleDir(join(import.meta.dirname, '..', '..', 'layers', 'model')),
        });
        // Fails here, with the SDK's message, when the credentials or the stage are wrong.
        const fleet = await source.fleet();
        const server = await startDashboard({ source, port: opts.port });
        process.stdout.write(`pdm dashboard: stage ${opts.stage}, ${fleet.length} twins — ${server.url}  (Ctrl-C stops)\n`);
        const stop = () => {
          source.close();
          void server.stop().then(() => history.close()).then(() => dynamo.destroy());
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      } catch (e) {
        const err = e as Error;
        cmd.error(`pdm dashboard: ${err.name}: ${err.message}`, { exitCode: 2 });
      }
    });
}
