/**
 * Masks credentials inside strings: connection strings, SAS tokens, URL user info, HTTP auth
 * headers. pino's `redact` paths only see object keys at known depths; this catches the same
 * secrets when they are embedded in messages, error texts and stacks.
 *
 * Every pattern stops at `"`, `'`, `\` and whitespace, so applying it to a serialised JSON log
 * line can only shorten the inside of one JSON string: the line stays valid JSON.
 */

/** What a masked secret is replaced with (the same text pino's `redact` uses). */
export const REDACTED = '[Redacted]'

const VALUE = `[^;&\\s"'\\\\]*`

const TEXT_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // Azure connection strings (Event Hubs, IoT Hub, Storage) and ADO-style `Password=`; `sig=` is
  // the signature inside a SharedAccessSignature token or a SAS URL.
  [new RegExp(`\\b(SharedAccessKey|SharedAccessSignature|AccountKey|Password|Pwd|sig)=${VALUE}`, 'gi'), `$1=${REDACTED}`],
  // Query-string credentials.
  [new RegExp(`([?&;](?:access_token|token|api_?key|secret)=)${VALUE}`, 'gi'), `$1${REDACTED}`],
  // scheme://user:password@host — keep the user (useful when diagnosing a wrong login), mask the
  // password. Greedy up to the last `@` before `/` so an unencoded `@` in a password cannot leak
  // its tail.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s/@:"'\\]*):[^\s/"'\\]*@/gi, `$1:${REDACTED}@`],
  // HTTP Authorization values quoted in text.
  [/\b(Basic|Bearer) [A-Za-z0-9+/._~-]{8,}=*/g, `$1 ${REDACTED}`],
]

/**
 * Returns `text` with credential patterns masked: `SharedAccessKey=…`, `AccountKey=…`,
 * `Password=…`, `sig=…`, `?token=…`, `scheme://user:…@`, `Bearer …`/`Basic …`.
 * Pure and total: never throws; text without secrets is returned unchanged.
 */
export function redactSecrets(text: string): string {
  let out = text
  for (const [pattern, replacement] of TEXT_RULES) out = out.replace(pattern, replacement)
  return out
}

// String values of these keys are masked at any depth of a JSON log line (pino's redact paths
// cover only the top level and one level down). Bare `key` is deliberately not here: store code
// logs LevelDB keys, so `key` is masked only at the depths the redact paths name.
const SECRET_JSON_KEY =
  /"(password|passwd|pwd|secret|clientSecret|token|accessToken|refreshToken|authorization|connectionString|sharedAccessKey|sharedAccessSignature|apiKey)":"(?:[^"\\]|\\.)*"/gi

/**
 * Masks one serialised JSON log line: secret-named keys at any depth, then `redactSecrets`.
 * Used as pino's `hooks.streamWrite`, the last step before the bytes leave the process.
 */
export function redactLogLine(line: string): string {
  return redactSecrets(line.replace(SECRET_JSON_KEY, `"$1":"${REDACTED}"`))
}
