/**
 * Installing the App: `installation` and `installation_repositories` events (GitHub's own example payloads)
 * are logged and handled without a crash, a GitHub request or a queued job.
 */
import examples from '@octokit/webhooks-examples/api.github.com/index.json' with { type: 'json' };
import { Probot } from 'probot';
import { createApp } from '../../src/app/index.js';
import { EmbeddedQueue } from '../../src/app/queue/embedded.js';
import { InProcessRunner } from '../../src/app/runner.js';
import { GitHubMock, useGitHubMock } from './helpers/github-mock.js';
import { RULES, TestOctokit, fakeAnalyzer } from './helpers/harness.js';

let gh: GitHubMock;
useGitHubMock((m) => (gh = m));

const payloads = (examples as Array<{ name: string; examples: Array<Record<string, any>> }>)
  .filter((e) => e.name === 'installation' || e.name === 'installation_repositories')
  .flatMap((e) => e.examples.map((p) => [`${e.name}.${p.action}`, e.name, p] as const));

it('has GitHub example payloads for both events', () => {
  expect(new Set(payloads.map(([, name]) => name))).toEqual(new Set(['installation', 'installation_repositories']));
});

it.each(payloads)('%s: logged, nothing posted, nothing queued', async (what, name, payload) => {
  const { pino } = await import('pino');
  const lines: Record<string, any>[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const queue = new EmbeddedQueue({ concurrency: 1 });
  const added: unknown[] = [];
  const add = queue.add.bind(queue);
  queue.add = async (job) => { added.push(job); return add(job); };
  const probot = new Probot({ githubToken: 'test', Octokit: TestOctokit, log });
  await probot.load(createApp({ runner: new InProcessRunner(fakeAnalyzer([])), queue, rules: RULES, engineVersion: async () => 'test' }));
  await probot.receive({ id: `i-${what}`, name: name as never, payload: payload as never });
  await queue.onIdle();
  expect(added).toEqual([]);
  expect(gh.calls).toEqual([]);
  const line = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith(name === 'installation' ? 'installation ' : 'installation repositories '));
  expect(line).toMatchObject({ installation: payload.installation.id, action: payload.action });
  if (name === 'installation_repositories') {
    expect(line!.added).toEqual((payload.repositories_added ?? []).map((r: { full_name: string }) => r.full_name));
  }
  expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  await queue.close();
});
