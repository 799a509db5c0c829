import { droneBuildEvent, newBuildScenario } from '../../test/stand-ins/drone/drone-payloads';
import { STATUS_COLOURS, renderBuildEmbed, truncate } from './build-message.view';
import { buildSnapshotOrder } from './build-status';
import { readDroneDelivery } from './drone-payload';
import type { DroneWebhookPayload } from './drone-webhook.types';

const scenario = newBuildScenario({
  slug: 'octocat/hello-world',
  buildNumber: 42,
  system: { link: 'https://drone.example.com', host: 'drone.example.com' },
});

function embedOf(payload: DroneWebhookPayload) {
  const delivery = readDroneDelivery(JSON.parse(JSON.stringify(payload)));
  if (delivery.kind !== 'build') throw new Error(`not a build delivery: ${delivery.kind}`);
  return renderBuildEmbed(delivery.snapshot);
}

function field(embed: ReturnType<typeof embedOf>, name: string): string | undefined {
  return embed.fields?.find((candidate) => candidate.name === name)?.value;
}

describe('renderBuildEmbed', () => {
  it('shows a new build in yellow with the repository, linked build number, event, branch, commit and author', () => {
    const embed = embedOf(droneBuildEvent(scenario, { status: 'pending' }));
    expect(embed.color).toBe(STATUS_COLOURS.inProgress);
    expect(embed.title).toBe('⏳ octocat/hello-world #42');
    expect(embed.url).toBe('https://drone.example.com/octocat/hello-world/42');
    expect(field(embed, 'Event')).toBe('Push');
    expect(field(embed, 'Branch')).toBe('`main`');
    expect(embed.description).toBe(
      '[`9fceb02`](https://github.com/octocat/hello-world/commit/9fceb02d0ae598e95dc970b74767f19372d61af8) Fix the flaky upload test',
    );
    expect(embed.author).toEqual({ name: 'The Octocat', icon_url: 'https://avatars.githubusercontent.com/u/583231?v=4' });
    expect(field(embed, 'Duration')).toBeUndefined();
  });

  it('shows a running build in yellow with the in-progress emoji', () => {
    const embed = embedOf(droneBuildEvent(scenario, { status: 'running', progress: 2 }));
    expect(embed.color).toBe(STATUS_COLOURS.inProgress);
    expect(embed.title?.startsWith('🔄')).toBe(true);
  });

  it('shows success in green with ✅ and the duration', () => {
    const embed = embedOf(droneBuildEvent(scenario, { status: 'success', durationSeconds: 125 }));
    expect(embed.color).toBe(STATUS_COLOURS.success);
    expect(embed.title?.startsWith('✅')).toBe(true);
    expect(field(embed, 'Duration')).toBe('2m 5s');
  });

  it.each(['failure', 'error'] as const)('shows %s in red with ❌, the duration and the failed stage and step', (status) => {
    const embed = embedOf(
      droneBuildEvent(scenario, {
        status,
        durationSeconds: 3725,
        stages: [
          { name: 'backend', status: 'success', steps: [['test', 'success']] },
          {
            name: 'frontend',
            status,
            steps: [
              ['lint', 'failure'],
              ['flaky', 'success'],
              ['e2e', status],
            ],
          },
        ],
      }),
    );
    expect(embed.color).toBe(STATUS_COLOURS.failure);
    expect(embed.title?.startsWith('❌')).toBe(true);
    expect(field(embed, 'Duration')).toBe('1h 2m 5s');
    expect(field(embed, 'Failed')).toBe('frontend › lint\nfrontend › e2e');
  });

  it("shows a cancelled build's killed step as cancelled, not failed, and keeps a failure before the cancel as failed", () => {
    // Drone's canceler marks the step that was running `killed` and those not started `skipped`.
    const killed = (steps: [string, 'success' | 'failure' | 'killed' | 'skipped'][]) =>
      embedOf(droneBuildEvent(scenario, { status: 'killed', stages: [{ name: 'default', status: 'killed', steps }] }));
    const cancelled = killed([
      ['build', 'success'],
      ['test', 'killed'],
      ['deploy', 'skipped'],
    ]);
    expect(field(cancelled, 'Cancelled')).toBe('default › test');
    expect(field(cancelled, 'Failed')).toBeUndefined();
    expect(field(cancelled, 'Status')).toBe('Killed');

    const failedThenCancelled = killed([
      ['lint', 'failure'],
      ['test', 'killed'],
    ]);
    expect(field(failedThenCancelled, 'Failed')).toBe('default › lint');
    expect(field(failedThenCancelled, 'Cancelled')).toBe('default › test');
  });

  it.each([
    ['skipped', STATUS_COLOURS.inactive],
    ['declined', STATUS_COLOURS.inactive],
    ['blocked', STATUS_COLOURS.waiting],
    ['waiting_on_dependencies', STATUS_COLOURS.waiting],
  ] as const)('shows %s in grey or blue', (status, colour) => {
    expect(embedOf(droneBuildEvent(scenario, { status, stages: [] })).color).toBe(colour);
  });

  it('names a tag, a pull request and a promotion', () => {
    const tag = embedOf(droneBuildEvent(scenario, { status: 'success', event: 'tag', ref: 'refs/tags/v1.4.0' }));
    expect(field(tag, 'Event')).toBe('Tag');
    expect(field(tag, 'Tag')).toBe('`v1.4.0`');
    const pull = embedOf(
      droneBuildEvent(scenario, { status: 'running', event: 'pull_request', ref: 'refs/pull/17/head', source: 'feature/upload', target: 'main' }),
    );
    expect(field(pull, 'Event')).toBe('Pull request');
    expect(field(pull, 'Branch')).toBe('#17 `feature/upload` → `main`');
    const promote = droneBuildEvent(scenario, { status: 'success', event: 'promote' });
    promote.build!.deploy_to = 'production';
    expect(field(embedOf(promote), 'Event')).toBe('Promote to production');
  });

  it('shows commit messages as text, not markdown', () => {
    const embed = embedOf(droneBuildEvent(scenario, { status: 'pending', message: 'Use **bold** and [links](x) @everyone' }));
    expect(embed.description).toContain('Use \\*\\*bold\\*\\* and \\[links\\](x) @everyone');
  });
});

describe('buildSnapshotOrder', () => {
  it('orders the snapshots of one build as Drone produced them, final status last', () => {
    const inOrder = [
      droneBuildEvent(scenario, { status: 'pending' }),
      droneBuildEvent(scenario, { status: 'running', progress: 0 }),
      droneBuildEvent(scenario, { status: 'running', progress: 1 }),
      droneBuildEvent(scenario, { status: 'running', progress: 3 }),
      droneBuildEvent(scenario, { status: 'success' }),
    ].map((payload) => buildSnapshotOrder(payload.build!));
    expect([...inOrder].sort()).toEqual(inOrder);
    expect(new Set(inOrder).size).toBe(inOrder.length);
  });

  it('never lets a running snapshot beat a final one, whatever its version', () => {
    const lateRunning = droneBuildEvent(scenario, { status: 'running', version: 99, progress: 3 });
    const failed = droneBuildEvent(scenario, { status: 'failure', version: 4 });
    expect(buildSnapshotOrder(lateRunning.build!) < buildSnapshotOrder(failed.build!)).toBe(true);
  });
});

describe('readDroneDelivery', () => {
  it.each([
    // User and repository hooks are shown since drone-discord's users switched; without their object they are malformed.
    [{ event: 'repo', action: 'enabled' }, 'malformed'],
    [{ event: 'user', action: 'created' }, 'malformed'],
    [{ event: 'repo', action: 'updated' }, 'ignored'],
    [{ event: 'user', action: 'updated' }, 'ignored'],
    [{ event: 'build', action: 'deleted' }, 'ignored'],
    [{ event: 'build', action: 'updated', repo: { id: 1, slug: 'a/b' }, build: { id: 1, number: 1, status: 'exploded' } }, 'ignored'],
    [[], 'malformed'],
    [{ action: 'created' }, 'malformed'],
    [{ event: 'build', action: 'created', repo: { id: 1, slug: 'a/b' } }, 'malformed'],
    [{ event: 'build', action: 'created', repo: { id: '1', slug: 'a/b' }, build: { id: 1, number: 1, status: 'pending' } }, 'malformed'],
  ])('classifies %j as %s', (body, kind) => {
    expect(readDroneDelivery(body).kind).toBe(kind);
  });
});

describe('truncate (commit subjects, titles, names)', () => {
  it('never cuts an emoji in half: the cut falls before it, counted in code points as Discord counts', () => {
    // 198 letters then an emoji (two UTF-16 units): a cut in units at 199 kept a lone surrogate, drawn as �; in code
    // points the emoji is the 199th character and fits.
    const subject = `${'a'.repeat(198)}🚀 and more`;
    const embed = embedOf(droneBuildEvent(scenario, { status: 'pending', message: subject }));
    expect(embed.description).toMatch(/ a{198}🚀…$/);
    expect(embed.description).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);

    expect(truncate(`ab🚀🚀`, 4)).toBe('ab🚀🚀');
    expect(truncate(`ab🚀🚀c`, 4)).toBe('ab🚀…');
    // A family emoji is one grapheme of five code points: kept whole or not at all.
    expect(truncate(`ab👨‍👩‍👧x`, 5)).toBe('ab…');
  });
});
