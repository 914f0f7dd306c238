/**
 * The SageMaker runtime stand-in: `POST /endpoints/{name}/invocations` with CSV rows in, one value per
 * line out, as the built-in XGBoost container answers. It scores with the same bundle file and the
 * core's evaluator, so `--scoring endpoint` exercises the endpoint path of the handler (InvokeEndpoint,
 * CSV, parsing, timeout) with the numbers the in-process path gives.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BundlePredictor, ModelBundle } from '../../lambdas/core/model/bundle.ts';
import { predictBatch } from '../../lambdas/core/model/predict.ts';

export interface ModelServer {
  readonly url: string;
  /** `<assetModelId>/<predictor>` → endpoint name: the handler's PDM_ENDPOINTS. */
  readonly endpoints: Readonly<Record<string, string>>;
  readonly stats: { invocations: number; rows: number; errors: number };
  close(): Promise<void>;
}

/** Endpoint name of a predictor (SageMaker names allow [a-zA-Z0-9-]). */
export function endpointName(modelId: string, predictor: string): string {
  return `pdm-local-${modelId}-${predictor}`.replace(/[^a-zA-Z0-9-]/g, '-');
}

/** Parses CSV rows (empty cell = missing) into a row-major matrix of `width` columns. */
export function parseCsvRows(text: string, width: number): { rows: Float32Array; n: number } {
  const lines = text.split('\n').filter((l) => l.trim().length > 0);
  const rows = new Float32Array(lines.length * width);
  lines.forEach((line, i) => {
    const cells = line.split(',');
    if (cells.length !== width) throw new CsvShapeError(`row ${i} has ${cells.length} values, the model takes ${width}`);
    for (let j = 0; j < width; j++) {
      const cell = cells[j]!.trim();
      rows[i * width + j] = cell === '' ? Number.NaN : Number(cell);
    }
  });
  return { rows, n: lines.length };
}

export class CsvShapeError extends Error {
  override readonly name: string = 'CsvShapeError';
}

export async function startModelServer(bundle: ModelBundle): Promise<ModelServer> {
  const byName = new Map<string, BundlePredictor>();
  const endpoints: Record<string, string> = {};
  for (const [modelId, entry] of bundle.models) {
    for (const p of entry.predictors) {
      const name = endpointName(modelId, p.entry.name);
      byName.set(name, p);
      endpoints[`${modelId}/${p.entry.name}`] = name;
    }
  }
  const stats = { invocations: 0, rows: 0, errors: 0 };
  const fail = (res: ServerResponse, status: number, type: string, message: string) => {
    stats.errors += 1;
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
    res.end(JSON.stringify({ message, ...(type === 'ModelError' ? { OriginalStatusCode: 400 } : {}) }));
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/endpoints\/([^/]+)\/invocations$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !match) return fail(res, 404, 'ValidationError', `no route ${req.method} ${req.url}`);
      const name = decodeURIComponent(match[1]!);
      const predictor = byName.get(name);
      if (!predictor) return fail(res, 400, 'ValidationError', `Endpoint ${name} not found`);
      try {
        const { rows, n } = parseCsvRows(Buffer.concat(chunks).toString('utf8'), predictor.columns.length);
        const out = predictBatch(predictor.model, rows, n);
        stats.invocations += 1;
        stats.rows += n;
        res.writeHead(200, { 'content-type': 'text/csv', 'x-amzn-invoked-production-variant': 'AllTraffic' });
        res.end(Array.from(out, (x) => String(x)).join('\n'));
      } catch (err) {
        fail(res, 424, 'ModelError', (err as Error).message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    endpoints,
    stats,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
