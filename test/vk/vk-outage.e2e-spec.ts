import type { VkEvent } from '../../src/vk/vk-event';
import type { VkDeliveriesPageDto, VkDeliveryViewDto, VkRoutingViewDto } from '../../src/vk/vk.dto';
import { HttpReceiver } from '../stand-ins/http-receiver/http-receiver';
import { VkStandIn } from '../stand-ins/vk/vk-stand-in';
import { chatPeer, messageNew } from '../stand-ins/vk/vk-updates';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { startRabbit, type ManagedServer } from '../support/servers';
import { QueueTap, VK_USERS, getJson, postJson, requireVmModules, vkEnv, writeRoutesFile } from './vk-support';

jest.setTimeout(600_000);

const SECRET = 'vk-outage-webhook-secret-0123456789';
const PEERS = [chatPeer(21), chatPeer(22)];

describe('VK deliveries while RabbitMQ and the webhook receiver are down', () => {
  let rabbit: ManagedServer & { url: string };
  let vk: VkStandIn;
  let receiver: HttpReceiver;
  let herald: HeraldUnderTest;
  let cmid = 0;

  const deliveries = async (query: string) => {
    const { status, body } = await getJson<VkDeliveriesPageDto>(`${herald.url}/vk/deliveries?${query}`, herald.token);
    expect(status).toBe(200);
    return body;
  };
  const hooked = () => receiver.accepted.map((r) => r.body as VkEvent);
  const message = (peerId: number, text: string) => messageNew({ peerId, fromId: 1001, text, cmid: ++cmid });

  beforeAll(async () => {
    requireVmModules();
    // A broker of our own: this suite stops and starts it, and nobody else reads its default queues.
    rabbit = await startRabbit();
    vk = await VkStandIn.start({ users: VK_USERS });
    receiver = await HttpReceiver.start(SECRET);
    const routesFile = writeRoutesFile({
      destinations: { 'audit-hook': { type: 'http', url: receiver.url('/audit') } },
      routes: [{ event_type: ['message', 'command'], to: ['audit-hook'] }],
    });
    herald = await bootHerald(vkEnv(vk, { AMQP_URL: rabbit.url, VK_ROUTES_FILE: routesFile, VK_HTTP_SIGNING_SECRET: SECRET }));
    await eventually(() => vk.heldPolls === 1, 30_000);
  });

  afterAll(async () => {
    await herald?.close();
    await vk?.close();
    await receiver?.close();
    await rabbit?.destroy();
  });

  it('keeps every event while both are down, shows them as failed / pending, and delivers them all in order once back', async () => {
    await rabbit.stop();
    await receiver.down();
    const during = Array.from({ length: 12 }, (_, i) => message(PEERS[i % 2], `during outage ${i}`));
    vk.push(...during);

    // Each (destination, peer) lane has its oldest event failing and retried, the rest waiting behind it.
    const failed = await eventually(async () => {
      const page = await deliveries('status=failed');
      const lanes = new Set(page.items.map((d) => `${d.destination}/${d.peerId}`));
      return lanes.size === 4 ? page : undefined;
    }, 60_000);
    expect(failed.items.map((d) => d.destination).sort()).toEqual(['audit-hook', 'audit-hook', 'queue:message', 'queue:message']);
    for (const delivery of failed.items) {
      expect(delivery).toMatchObject({ status: 'failed', parked: false });
      expect(delivery.attempts).toBeGreaterThanOrEqual(1);
      expect(delivery.nextAttemptAt).not.toBeNull();
      expect(delivery.lastError).toMatch(delivery.destination === 'audit-hook' ? /POST failed/ : /RabbitMQ queue message/);
    }
    // A batch's deliveries are stored lane by lane: wait until the last of them is in.
    const pending = await eventually(async () => {
      const page = await deliveries('status=pending&limit=500');
      return page.items.length >= 2 * during.length - 4 ? page : undefined;
    }, 60_000);
    expect(pending.items).toHaveLength(2 * during.length - 4);
    expect(pending.counts).toEqual({ pending: 2 * during.length - 4, failed: 4 });
    const waiting = [...failed.items, ...pending.items];
    expect(new Set(waiting.map((d) => d.eventId))).toEqual(new Set(during.map((u) => u.event_id)));

    await rabbit.start();
    await receiver.up();
    const tap = await QueueTap.open(rabbit.url, ['message']);
    try {
      await eventually(() => tap.of('message').length >= during.length && hooked().length >= during.length, 240_000);
      const textsOf = (events: VkEvent[], peer: number) => events.filter((e) => e.peer.bpid === peer).map((e) => e.message?.text);
      for (const [index, peer] of PEERS.entries()) {
        const sentInOrder = Array.from({ length: 12 }, (_, i) => `during outage ${i}`).filter((_, i) => i % 2 === index);
        expect(textsOf(tap.of('message'), peer)).toEqual(sentInOrder);
        expect(textsOf(hooked(), peer)).toEqual(sentInOrder);
      }
      expect(receiver.accepted.every((r) => r.signatureValid)).toBe(true);
    } finally {
      await tap.close();
    }
    await eventually(
      async () => (await deliveries('status=failed')).counts.failed === 0 && (await deliveries('status=pending')).counts.pending === 0,
      120_000,
    );
  });

  it("parks a delivery the receiver refuses for good, lets the peer's later events pass, and sends it on POST .../retry", async () => {
    receiver.failWith(422);
    const refused = message(PEERS[0], 'refused at first');
    vk.push(refused);
    const parked = await eventually(
      async () => (await deliveries('status=failed&destination=audit-hook')).items.find((d) => d.eventId === refused.event_id && d.parked),
      120_000,
    );
    expect(parked).toMatchObject({ status: 'failed', parked: true, nextAttemptAt: null, lastError: 'receiver answered HTTP 422' });

    receiver.recover();
    const later = message(PEERS[0], 'after the refused one');
    vk.push(later);
    await eventually(() => hooked().some((e) => e.event_id === later.event_id), 120_000);
    expect(hooked().some((e) => e.event_id === refused.event_id)).toBe(false);

    // The parked delivery is an outbox job: GET /outbox lists it with its reason, beside the other features' ones.
    const outbox = await getJson<{ parked: { id: string; queue: string; lane: string; lastError: string }[] }>(
      `${herald.url}/outbox?queue=vk`,
      herald.token,
    );
    expect(outbox.body.parked).toContainEqual(
      expect.objectContaining({ id: parked.id, queue: 'vk', lane: `vk:audit-hook:${PEERS[0]}`, lastError: 'receiver answered HTTP 422' }),
    );

    // A retry is a new job at the end of the lane (a new id), carrying the same delivery id.
    const retried = await postJson<VkDeliveryViewDto>(`${herald.url}/vk/deliveries/${parked.id}/retry`, herald.token);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ eventId: refused.event_id, deliveryId: parked.deliveryId, parked: false, attempts: 0 });
    expect(retried.body.id).not.toBe(parked.id);
    await eventually(() => hooked().some((e) => e.event_id === refused.event_id), 120_000);
    const delivered = await eventually(
      async () =>
        (await deliveries(`status=delivered&peer=${PEERS[0]}&destination=audit-hook&limit=500`)).items.find((d) => d.id === retried.body.id),
      120_000,
    );
    expect(delivered.deliveredAt).not.toBeNull();
    expect(hooked().filter((e) => e.event_id === refused.event_id)).toHaveLength(1);

    const again = await postJson<{ message: string }>(`${herald.url}/vk/deliveries/${parked.id}/retry`, herald.token);
    expect(again.status).toBe(409);
    const unknown = await postJson<{ message: string }>(`${herald.url}/vk/deliveries/0123456789abcdef/retry`, herald.token);
    expect(unknown.status).toBe(404);
    // The outbox's own retry endpoint answers the same for VK jobs.
    expect((await postJson(`${herald.url}/outbox/${parked.id}/retry`, herald.token)).status).toBe(409);
  });

  it('lists deliveries newest first and pages on with `next`, without repeats or gaps while events keep coming', async () => {
    await eventually(async () => {
      const { counts } = await deliveries('status=pending');
      return counts.pending === 0 && counts.failed === 0;
    }, 120_000);
    const oldestFirst = (await deliveries('status=delivered&order=oldest&limit=500')).items.map((d) => d.id);
    expect(oldestFirst.length).toBeGreaterThan(10);
    const pages: VkDeliveriesPageDto[] = [await deliveries('status=delivered&limit=4')];
    // Delivered after the first page was read: newer than everything listed, so no later page shows them.
    const meanwhile = [message(PEERS[0], 'while paging'), message(PEERS[1], 'while paging')];
    vk.push(...meanwhile);
    await eventually(() => meanwhile.every((u) => hooked().some((e) => e.event_id === u.event_id)), 120_000);
    while (pages[pages.length - 1].next) pages.push(await deliveries(`status=delivered&limit=4&cursor=${pages[pages.length - 1].next}`));
    expect(pages.flatMap((page) => page.items.map((d) => d.id))).toEqual([...oldestFirst].reverse());
    expect(pages.slice(0, -1).every((page) => page.items.length === 4)).toBe(true);
    // The newest are first now, ahead of what the pages above showed.
    const first = await deliveries('status=delivered&limit=4');
    expect(first.items.filter((d) => meanwhile.some((u) => u.event_id === d.eventId)).length).toBeGreaterThanOrEqual(2);
  });

  it('names a route of the routes file by its place there when it has no name of its own', async () => {
    const { body } = await getJson<VkRoutingViewDto>(`${herald.url}/vk/routes`, herald.token);
    expect(body.routes).toContainEqual({ name: 'routes.0', event_type: ['message', 'command'], peers: null, commands: null, to: ['audit-hook'] });
  });

  it('guards the outbox endpoints and names a bad query field', async () => {
    expect((await getJson(`${herald.url}/vk/deliveries?status=failed`)).status).toBe(401);
    const bad = await getJson<{ errors: { field: string }[] }>(`${herald.url}/vk/deliveries?status=lost&limit=0`, herald.token);
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['limit', 'status']);
    // A channel or queue name where a destination name belongs (`message` for `queue:message`) is named, not an empty list.
    const channel = await getJson<{ message: string; errors: { field: string }[] }>(`${herald.url}/vk/deliveries?destination=message`, herald.token);
    expect(channel.status).toBe(400);
    expect(channel.body.errors.map((e) => e.field)).toEqual(['destination']);
    expect(channel.body.message).toMatch(/no destination named "message" .*queue:message/);
    expect((await deliveries('destination=queue:message&limit=1')).items).toHaveLength(1);
    for (const path of ['/vk/deliveries', '/outbox']) {
      const badPage = await getJson<{ message: string; errors: { field: string }[] }>(
        `${herald.url}${path}?cursor=nope&order=sideways`,
        herald.token,
      );
      expect(badPage.status).toBe(400);
      expect(badPage.body.errors.map((e) => e.field).sort()).toEqual(['cursor', 'order']);
      expect(badPage.body.message).toMatch(/cursor must be the `next` of an earlier page/);
    }
  });
});
