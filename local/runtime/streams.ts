/** Kinesis stream helpers shared by the local runtime and the tests' stand-ins. */
import { DescribeStreamCommand, type KinesisClient } from '@aws-sdk/client-kinesis';

/**
 * Waits until a stream is ACTIVE, as against Kinesis: kinesalite activates a new stream on a timer even
 * with `createStreamMs: 0`, and a put or describe before that fails with ResourceNotFoundException.
 * @default timeoutMs 5000
 */
export async function waitStreamActive(kinesis: KinesisClient, stream: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const desc = await kinesis.send(new DescribeStreamCommand({ StreamName: stream })).catch(() => undefined);
    if (desc?.StreamDescription?.StreamStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`stream ${stream} did not become ACTIVE within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
