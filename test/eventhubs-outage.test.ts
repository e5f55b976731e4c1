/**
 * Failure paths of the Event Hubs uplink with the real SDK against the local peer: throttling,
 * the peer dying and coming back, refused credentials, a hung service, stop and cancel.
 * Lost must be 0 every time; duplicates are allowed (at-least-once).
 */
import { describe, expect, it } from 'vitest'
import { UplinkError } from '../gateway/core/errors.js'
import { buildEntries } from './support/eh-entries.js'
import { never, sendUntilConfirmed } from './support/eh-uplink-harness.js'
import type { EventHubsPeer } from './support/eventhubs-peer.js'
import { startPeerForTest, startPeerWithUplinkForTest, startUplinkForTest } from './per-test-resources.js'

/** A fresh peer with a started uplink (`overrides` on the uplink config), both gone after the test. */
const setup = (overrides: Record<string, unknown> = {}) => startPeerWithUplinkForTest({}, overrides)

function receivedIds(p: EventHubsPeer): Set<string | undefined> {
  return new Set(p.received().map((e) => e.messageId))
}

async function rejection(p: Promise<unknown>): Promise<UplinkError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(UplinkError)
  return err as UplinkError
}

describe('EventHubsUplink outages', () => {
  it('a short ServerBusy spell is absorbed by the SDK retries', async () => {
    const { peer, uplink } = await setup()
    peer.rejectWithServerBusy(1)
    const entries = buildEntries(5, 1)
    await uplink.send(entries, never)
    expect(peer.stats().serverBusyRejections).toBe(1)
    expect(peer.received().map((e) => e.messageId)).toEqual(entries.map((e) => e.id))
  })

  it('a long one rejects retriable with the suggested wait; retrying loses nothing', async () => {
    const { peer, uplink } = await setup()
    // Each send() tries 4 keys x (1 + 2 SDK retries): 30 refusals outlast a few send() calls.
    peer.rejectWithServerBusy(30)
    const entries = buildEntries(20, 4)
    const { failures } = await sendUntilConfirmed(uplink, entries)
    expect(failures.length).toBeGreaterThan(0)
    expect(peer.stats().serverBusyRejections).toBe(30)
    for (const f of failures) expect(f).toMatchObject({ reason: 'throttled', retriable: true, retryAfterMs: 4000 })
    const ids = receivedIds(peer)
    for (const e of entries) expect(ids.has(e.id)).toBe(true)
  })

  it('ServerBusy until a condition: nothing is accepted meanwhile, everything after', async () => {
    const { peer, uplink } = await setup()
    let open = false
    peer.rejectWithServerBusy(() => open)
    const entries = buildEntries(6, 2)
    const err = await rejection(uplink.send(entries, never))
    expect(err.reason).toBe('throttled')
    expect(peer.received()).toHaveLength(0)
    open = true
    await uplink.send(entries, never)
    expect(receivedIds(peer)).toEqual(new Set(entries.map((e) => e.id)))
  })

  it('peer killed: retriable rejection and health down; restarted: the next send works', async () => {
    const { peer, uplink } = await setup()
    const first = buildEntries(5, 1)
    await uplink.send(first, never)
    expect(uplink.health().connected).toBe(true)

    await peer.kill()
    const second = buildEntries(5, 2, { firstDevice: 10 })
    const err = await rejection(uplink.send(second, never))
    expect(err.retriable).toBe(true)
    expect(['disconnected', 'timeout', 'unavailable']).toContain(err.reason)
    expect(uplink.health().connected).toBe(false)
    expect(uplink.health().detail).toContain(err.reason)

    await peer.restart()
    await uplink.send(second, never)
    await peer.waitFor((events) => second.every((e) => events.some((r) => r.messageId === e.id)))
    expect(uplink.health()).toEqual({ connected: true })
  })

  it('refused credentials: retriable with a slow wait, health says unauthorized, recovers after the fix', async () => {
    const peer = await startPeerForTest()
    peer.setAuthorized(false)
    const uplink = await startUplinkForTest(peer, { retryMaxMs: 45_000 })
    const entries = buildEntries(3, 1)
    const err = await rejection(uplink.send(entries, never))
    expect(err).toMatchObject({ reason: 'unauthorized', retriable: true, retryAfterMs: 45_000 })
    expect(uplink.health().connected).toBe(false)
    expect(uplink.health().detail).toMatch(/^unauthorized/)
    expect(peer.received()).toHaveLength(0)

    peer.setAuthorized(true) // the key was fixed/rotated back
    await sendUntilConfirmed(uplink, entries, 5)
    expect(receivedIds(peer)).toEqual(new Set(entries.map((e) => e.id)))
    expect(uplink.health().connected).toBe(true)
  })

  it('a wrong hub name is retriable with a slow wait (a config fix must not cost the queue)', async () => {
    const peer = await startPeerForTest()
    const uplink = await startUplinkForTest(peer, { connectionString: peer.connectionString('no-such-hub'), retryMaxMs: 20_000 })
    const err = await rejection(uplink.send(buildEntries(2, 1), never))
    expect(err).toMatchObject({ reason: 'entity_not_found', retriable: true, retryAfterMs: 20_000 })
    expect(uplink.health().detail).toMatch(/^entity_not_found/)
  })

  it('a hung service cannot hang a send: sendTimeoutMs turns it into a retriable timeout', async () => {
    const { peer, uplink } = await setup({ sendTimeoutMs: 1_500 })
    await uplink.send(buildEntries(1, 1), never) // link is up
    peer.stallDeliveries(true)
    const err = await rejection(uplink.send(buildEntries(3, 3, { firstDevice: 10 }), never))
    expect(err).toMatchObject({ reason: 'timeout', retriable: true })
  })

  // The same contract with the SDK on its own thread (threaded-uplink.ts): stop and cancel cross it.
  for (const thread of ['main', 'worker'] as const) {
    it(`stop() rejects an outstanding send as retriable, and later sends too (thread ${thread})`, async () => {
      const { peer, uplink } = await setup({ sendTimeoutMs: 60_000, thread })
      await uplink.send(buildEntries(1, 1), never)
      peer.stallDeliveries(true)
      const pending = rejection(uplink.send(buildEntries(2, 2, { firstDevice: 10 }), never))
      await peer.waitUntil(() => peer.stats().stalledDeliveries > 0) // on the wire, never to be settled
      await uplink.stop()
      expect(await pending).toMatchObject({ reason: 'stopped', retriable: true })
      expect(await rejection(uplink.send(buildEntries(1, 1), never))).toMatchObject({ reason: 'stopped', retriable: true })
      expect(uplink.health()).toEqual({ connected: false, detail: 'stopped' })
    })

    it(`the forwarder cancelling a send rejects it as retriable \`aborted\` without marking the peer down (thread ${thread})`, async () => {
      const { peer, uplink } = await setup({ sendTimeoutMs: 60_000, thread })
      await uplink.send(buildEntries(1, 1), never)
      peer.stallDeliveries(true)
      const controller = new AbortController()
      const pending = rejection(uplink.send(buildEntries(2, 2, { firstDevice: 10 }), controller.signal))
      await peer.waitUntil(() => peer.stats().stalledDeliveries > 0)
      controller.abort()
      expect(await pending).toMatchObject({ reason: 'aborted', retriable: true })
      expect(uplink.health().connected).toBe(true)
    })
  }
})
