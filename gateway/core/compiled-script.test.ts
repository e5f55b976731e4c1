import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { compiledScript } from './compiled-script.js'

describe('compiledScript', () => {
  it('compiled: the caller\'s sibling', () => {
    const caller = pathToFileURL(path.join('/opt/eg/dist/gateway/store/child-salvage.js')).href
    expect(compiledScript(caller, 'leveldb-child.js')).toBe(path.join('/opt/eg/dist/gateway/store/leveldb-child.js'))
  })

  it('from the TypeScript sources: the twin under dist/', () => {
    const caller = pathToFileURL(path.join('/work/gateway/uplink/eventhubs/threaded-uplink.ts')).href
    expect(compiledScript(caller, 'uplink-thread.js')).toBe(path.join('/work/dist/gateway/uplink/eventhubs/uplink-thread.js'))
  })

  it('refuses a caller outside gateway/', () => {
    expect(() => compiledScript(pathToFileURL('/work/bench/x.ts').href, 'y.js')).toThrow(/not under gateway/)
  })
})
