/**
 * Exact size of an MQTT PUBLISH packet, computed from its parts without encoding it, so every
 * event can be checked against the broker's Maximum Packet Size before it is written.
 *
 * Why it matters: MQTT 5 says a client MUST NOT send a packet larger than the Maximum Packet Size
 * the server announced in CONNACK (MQTT-3.2.2-15); a server that receives one closes the
 * connection (DISCONNECT 0x95). One oversize event would then fail every batch it is in, forever.
 * Checked against mqtt-packet's encoder in packet-size.test.ts.
 */

/** The PUBLISH properties this uplink sets (MQTT 5 §3.3.2.3). */
export interface PublishProperties {
  /** Content Type, property 0x03 (MQTT 5 §3.3.2.3.9). */
  contentType?: string
  /** User Property pairs, property 0x26 (MQTT 5 §3.3.2.3.7). */
  userProperties?: Record<string, string>
}

/** Bytes a Variable Byte Integer takes (MQTT 5 §1.5.5): 1 to 4. */
export function varIntBytes(n: number): number {
  if (n < 128) return 1
  if (n < 16_384) return 2
  if (n < 2_097_152) return 3
  return 4
}

/** Bytes of the property block including its length prefix (MQTT 5 §2.2.2). */
export function propertiesBytes(props: PublishProperties | undefined): number {
  let len = 0
  if (props?.contentType !== undefined) len += 1 + 2 + Buffer.byteLength(props.contentType)
  if (props?.userProperties) {
    for (const [k, v] of Object.entries(props.userProperties)) {
      len += 1 + 2 + Buffer.byteLength(k) + 2 + Buffer.byteLength(v)
    }
  }
  return varIntBytes(len) + len
}

/**
 * Total bytes of a QoS 1 PUBLISH: fixed header (1 + remaining-length varint), topic (2 + UTF-8),
 * packet identifier (2), MQTT 5 properties, payload (MQTT 5 §3.3; MQTT 3.1.1 §3.3 has no
 * properties).
 */
export function publishPacketBytes(
  topicBytes: number,
  payloadBytes: number,
  protocolVersion: 4 | 5,
  props?: PublishProperties,
): number {
  const remaining = 2 + topicBytes + 2 + (protocolVersion === 5 ? propertiesBytes(props) : 0) + payloadBytes
  return 1 + varIntBytes(remaining) + remaining
}

/** The largest remaining length MQTT can express (MQTT 5 §1.5.5): 268,435,455 bytes. */
export const MQTT_MAX_PACKET_BYTES = 1 + 4 + 268_435_455
