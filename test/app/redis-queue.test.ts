/**
 * The BullMQ backend against a real Redis (REDIS_URL; `.ci/run` starts redis-server on loopback for it).
 * Two queue instances stand for two App instances sharing one queue.
 */
import { BullMqQueue, connectionFromUrl } from '../../src/app/queue/bullmq.js';
import type { ReviewJob } from '../../src/app/queue/types.js';
import { RetryLater } from '../../src/app/retry.js';

const REDIS_URL = process.env.REDIS_URL;
const describeRedis = REDIS_URL ? describe : describe.skip;
if (!REDIS_URL) {
  // Said once, plainly: these tests need a Redis server and are not silently "passing".
  console.warn('redis-queue.test.ts: skipped, REDIS_URL is not set (.ci/run starts redis-server and sets it)');
}

const job = (over: Partial<ReviewJob> = {}): ReviewJob => ({
  installationId: 1, owner: 'o', repo: 'r', pullNumber: 1, headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40),
  draft: false, updatedAt: 1000, trigger: 'test', force: false, deliveryId: 'd', ...over,
});

it('parses REDIS_URL into connection options', () => {
  expect(connectionFromUrl('redis://:pw@127.0.0.1:6390/2')).toMatchObject({ host: '127.0.0.1', port: 6390, password: 'pw', db: 2, maxRetriesPerRequest: null });
  expect(() => connectionFromUrl('http://x')).toThrow('redis://');
});

describeRedis('BullMqQueue (Redis)', () => {
  let name: string;
  let a: BullMqQueue;
  let b: BullMqQueue;
  beforeEach(() => {
    name = `test-${process.pid}-${Math.random().toString(36).slice(2)}`;
    a = new BullMqQueue({ redisUrl: REDIS_URL!, name, concurrency: 2, lockMs: 2000, maxAttempts: 3 });
    b = new BullMqQueue({ redisUrl: REDIS_URL!, name, concurrency: 2, lockMs: 2000, maxAttempts: 3 });
  });
  afterEach(async () => {
    await a.obliterate().catch(() => undefined);
    await a.close();
    await b.close();
  });

  it('delivery ids are shared: the second instance sees the first one\'s delivery', async () => {
    expect(await a.firstDelivery(`${name}-d1`)).toBe(true);
    expect(await b.firstDelivery(`${name}-d1`)).toBe(false);
    // A refused event's delivery is forgotten (by any instance): its redelivery is taken.
    await b.forgetDelivery(`${name}-d1`);
    expect(await a.firstDelivery(`${name}-d1`)).toBe(true);
  });

  it('two instances share the work; each job runs once; a duplicate head is not queued twice', async () => {
    const ran: string[] = [];
    const proc = (who: string) => async (j: ReviewJob) => {
      ran.push(`${who}:${j.pullNumber}`);
      await new Promise((r) => setTimeout(r, 20));
    };
    for (let n = 1; n <= 12; n++) expect(await a.add(job({ pullNumber: n }))).toBe('queued');
    expect(await b.add(job({ pullNumber: 3, deliveryId: 'again' }))).toBe('duplicate');
    a.start(proc('a'));
    b.start(proc('b'));
    await a.onIdle();
    const prs = ran.map((r) => Number(r.split(':')[1])).sort((x, y) => x - y);
    expect(prs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('a newer head supersedes: the older job sees it, a stale event is refused', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const started = new Promise<void>((r) => (entered = r));
    a.start(async (j, ctx) => {
      if (j.headSha[0] === 'a') {
        entered();
        await gate;
      }
      seen.push(`${j.headSha[0]}:${await ctx.isSuperseded()}`);
    });
    await a.add(job());
    await started;
    expect(await b.add(job({ headSha: 'c'.repeat(40), updatedAt: 3000 }))).toBe('queued');
    expect(await b.add(job({ headSha: 'e'.repeat(40), updatedAt: 2000 }))).toBe('stale');
    release();
    await a.onIdle();
    expect(seen.sort()).toEqual(['a:true', 'c:false']);
  });

  it('command jobs have their own job id and take no head or lock key: they never supersede, dedupe or wait for the review of their pull request', async () => {
    const command = (deliveryId: string): ReviewJob => job({
      kind: 'command', deliveryId, headSha: '', baseSha: '', updatedAt: 0, trigger: '/kmap-review recheck by @m',
      command: { type: 'comment', verb: 'recheck', commentId: 1, login: 'm' },
    });
    const redis = (await a.client()) as unknown as { keys(pattern: string): Promise<string[]>; get(key: string): Promise<string | null> };
    const kmapKeys = async () => (await redis.keys(`kmap-review:${name}:kmap:*`)).sort();

    expect(await a.add(job())).toBe('queued');
    expect(await b.add(command('c1'))).toBe('queued');
    expect(await b.add(command('c1'))).toBe('duplicate');
    expect(await a.add(command('c2'))).toBe('queued');
    // The review bookkeeping is the review's alone: a late older event is still stale, the head is 'a'.
    expect(await a.add(job({ headSha: 'e'.repeat(40), updatedAt: 500 }))).toBe('stale');
    expect(await kmapKeys()).toEqual([`kmap-review:${name}:kmap:head:o/r#1`]);
    expect(await redis.get(`kmap-review:${name}:kmap:head:o/r#1`)).toBe(`1000|${'a'.repeat(40)}`);

    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let commandsDone!: () => void;
    const commandsRan = new Promise<void>((r) => (commandsDone = r));
    let reviewStarted!: () => void;
    const started = new Promise<void>((r) => (reviewStarted = r));
    const proc = async (j: ReviewJob, ctx: { attempt: number; isSuperseded(): Promise<boolean> }) => {
      if (j.kind === 'command') {
        seen.push(`${j.deliveryId}#${ctx.attempt} superseded=${await ctx.isSuperseded()}`);
        if (j.deliveryId === 'c1' && ctx.attempt === 1) throw new RetryLater(10, 'GitHub answered 502');
        if (seen.filter((x) => x.startsWith('c')).length === 3) commandsDone();
        return;
      }
      if (j.headSha[0] === 'a') {
        reviewStarted();
        await gate;
      }
      seen.push(`review ${j.headSha[0]} superseded=${await ctx.isSuperseded()}`);
    };
    a.start(proc);
    b.start(proc);
    await started;
    // The review of o/r#1 holds its lock: the commands of the same pull request run (and retry) meanwhile.
    await commandsRan;
    expect(seen.sort()).toEqual(['c1#1 superseded=false', 'c1#2 superseded=false', 'c2#1 superseded=false']);
    expect(await b.add(job({ headSha: 'c'.repeat(40), updatedAt: 3000 }))).toBe('queued');
    release();
    await a.onIdle();
    expect(seen.filter((x) => x.startsWith('review')).sort()).toEqual(['review a superseded=true', 'review c superseded=false']);
    // Nothing per delivery is left behind: only the pull request's head (the lock was released).
    expect(await kmapKeys()).toEqual([`kmap-review:${name}:kmap:head:o/r#1`]);
    expect(await redis.keys(`*command*`)).toEqual([]);
  });

  it('RetryLater runs the job again with the next attempt number', async () => {
    const attempts: number[] = [];
    a.start(async (_j, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new RetryLater(10, 'GitHub answered 502');
    });
    await a.add(job());
    await a.onIdle();
    expect(attempts).toEqual([1, 2, 3]);
  });
});
