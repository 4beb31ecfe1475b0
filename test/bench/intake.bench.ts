/**
 * Intake figures on the real stack (PostgreSQL, Kafka): activation latency (HTTP), activation → event
 * on alerts.v1, throughput with concurrent operators, photo processing, login (argon2).
 *   npm run bench:intake
 */
import { noisyJpegWithGps } from '../support/images';
import { uploadPhoto } from '../support/intake';
import { TestStack, minimalFicha } from '../support/stack';
import { TopicCollector } from '../support/topic-collector';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (xs: number[]) =>
  `p50 ${pct(xs, 50).toFixed(1)} ms · p95 ${pct(xs, 95).toFixed(1)} ms · max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;

async function main(): Promise<void> {
  const stack = await TestStack.create();
  try {
    await stack.start('intake', { LOG_LEVEL: 'info' });
    const topic = await TopicCollector.start(stack, 'alerts.v1');
    for (let i = 0; i < 20; i++)
      await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 20 + (i % 50) }));

    const http: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: i % 100 }));
      http.push(performance.now() - t0);
      if (res.status !== 201) throw new Error(`activation failed: ${res.status} ${JSON.stringify(res.body)}`);
    }
    // Activation → event on Kafka, measured on a fresh batch with the collector timestamping arrivals.
    const e2e: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: i % 100 }));
      const id = res.body.id as string;
      while (!topic.of(id).length) await new Promise((r) => setTimeout(r, 2));
      e2e.push(topic.of(id)[0].receivedAt - t0);
    }

    const concurrency = 10;
    const perWorker = 30;
    const c0 = performance.now();
    const conc: number[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        for (let i = 0; i < perWorker; i++) {
          const t0 = performance.now();
          const res = await stack.http(
            'intake',
            'POST',
            '/api/v1/alerts',
            minimalFicha({ age: (w * 7 + i) % 100 }),
          );
          if (res.status !== 201) throw new Error(`activation failed: ${res.status}`);
          conc.push(performance.now() - t0);
        }
      }),
    );
    const concSeconds = (performance.now() - c0) / 1000;

    const photo = await noisyJpegWithGps(4000, 3000);
    const photos: number[] = [];
    for (let i = 0; i < 10; i++) {
      const id = (
        await stack.http(
          'intake',
          'POST',
          '/api/v1/alerts',
          minimalFicha({ photoConsent: true, activate: false }),
        )
      ).body.id;
      const t0 = performance.now();
      const res = await uploadPhoto(stack, id, photo);
      if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
      photos.push(performance.now() - t0);
    }

    const lines = [
      `intake bench (${new Date().toISOString()}, ${require('os').cpus().length} cores)`,
      `activation (POST /api/v1/alerts, activate:true), sequential: ${fmt(http)}`,
      `activation → AlertActivated on Kafka (outbox relay): ${fmt(e2e)}`,
      `activation with ${concurrency} concurrent operators: ${fmt(conc)} · ${((concurrency * perWorker) / concSeconds).toFixed(0)} activations/s`,
      `photo upload 4000×3000 JPEG (${(photo.length / 1024).toFixed(0)} KiB, EXIF+GPS) → 3 variants: ${fmt(photos)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    await topic.stop();
  } finally {
    await stack.teardown();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
