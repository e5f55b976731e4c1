/**
 * BTHome v2 events (bthome.io/format "Events"): button 0x3A, command 0x3B, dimmer 0x3C.
 *
 * Numbering follows bthome.io "Multiple events of the same type" and bthome-ble: with one object
 * of a device type the event is called `button`; with several, `button_1`, `button_2`... by
 * position, and event id 0x00 ("None") holds a position without firing anything.
 */
import { BUTTON_EVENTS, COMMAND_OPCODES, DIMMER_EVENTS } from './bthome-objects.js'
import { hex } from './bytes.js'

/** A button, dimmer or command event. */
export interface BthomeEvent {
  device: 'button' | 'dimmer' | 'command'
  /** `button`, or `button_2` etc. when the advert carries several objects of that device type. */
  name: string
  /** Spec event type (`press`, `rotate_left`, `toggle`) or `unknown` for an unassigned code. */
  event: string
  /** Raw event id / opcode. */
  code: number
  steps?: number
  argsHex?: string
}

type Pending = Omit<BthomeEvent, 'name'> & { index: number }

/** Collects events while objects are parsed, then names them. One per advert. */
export class BthomeEventCollector {
  private readonly pending: Pending[] = []
  private readonly counts: Record<BthomeEvent['device'], number> = { button: 0, dimmer: 0, command: 0 }

  /** 0x3A: one byte, the event id. */
  button(code: number): void {
    this.add('button', code, BUTTON_EVENTS.get(code))
  }

  /** 0x3C: event id, then the number of steps. */
  dimmer(code: number, steps: number): void {
    this.add('dimmer', code, DIMMER_EVENTS.get(code), steps)
  }

  /** 0x3B: opcode, then arguments (for step up/down the first is the number of steps). */
  command(body: Buffer): void {
    const opcode = body[0]
    const args = body.subarray(1)
    const index = ++this.counts.command
    const event = COMMAND_OPCODES.get(opcode) ?? 'unknown'
    const steps = (event === 'step_up' || event === 'step_down') && args.length > 0 ? args[0] : undefined
    this.pending.push({ device: 'command', index, event, code: opcode, argsHex: hex(args), ...(steps !== undefined ? { steps } : {}) })
  }

  /** The events in payload order, named. */
  finish(): BthomeEvent[] {
    return this.pending.map(({ index, ...e }) => ({ ...e, name: this.counts[e.device] > 1 ? `${e.device}_${index}` : e.device }))
  }

  private add(device: 'button' | 'dimmer', code: number, event: string | undefined, steps?: number): void {
    const index = ++this.counts[device]
    if (code === 0) return // "None": counts for numbering, fires nothing
    // An unassigned code on a known object (its length is known) is reported, not dropped: see
    // the decision list in bthome.ts.
    this.pending.push({ device, index, event: event ?? 'unknown', code, ...(steps !== undefined ? { steps } : {}) })
  }
}
