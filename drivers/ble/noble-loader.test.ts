import { describe, expect, it } from 'vitest'
import { NOT_PERMITTED, describeBleError, keepSigintForTheGateway } from './noble-loader.js'

describe('describeBleError', () => {
  const err = (code: string, message = `${code}, something`) => Object.assign(new Error(message), { code })
  it.each([
    [err('EAFNOSUPPORT'), undefined, 'no Bluetooth adapter (EAFNOSUPPORT)'],
    [err('ENODEV'), 1, 'no Bluetooth adapter hci1 (ENODEV)'],
    [err('EPERM'), undefined, NOT_PERMITTED],
    [err('EACCES'), undefined, NOT_PERMITTED],
    [err('EBUSY'), 0, 'Bluetooth adapter hci0 busy (EBUSY): another program holds it exclusively'],
    [err('ERR_DLOPEN_FAILED'), undefined, 'Bluetooth library not usable (ERR_DLOPEN_FAILED): reinstall @abandonware/noble for this platform'],
    ['Initialization of USB device failed: ENODEV, No such device', undefined, 'no Bluetooth adapter (ENODEV)'],
    [new Error('EAFNOSUPPORT, Address family not supported by protocol'), undefined, 'no Bluetooth adapter (EAFNOSUPPORT)'],
    [new Error('weird'), undefined, 'Bluetooth unavailable: weird'],
  ])('%s', (e, hci, detail) => {
    expect(describeBleError(e, hci)).toBe(detail)
  })
})

describe('keepSigintForTheGateway', () => {
  it("removes the SIGINT listener noble's hci binding adds in init (it would process.exit(1))", () => {
    const onSigIntBinded = (): void => {}
    const bindings = {
      onSigIntBinded: undefined as undefined | (() => void),
      init(this: { onSigIntBinded?: () => void }) {
        this.onSigIntBinded = onSigIntBinded
        process.on('SIGINT', onSigIntBinded)
        return 'ok'
      },
    }
    keepSigintForTheGateway({ _bindings: bindings })
    expect(bindings.init()).toBe('ok')
    expect(process.listeners('SIGINT')).not.toContain(onSigIntBinded)
  })

  it('is a no-op for a noble without that binding', () => {
    expect(() => keepSigintForTheGateway({})).not.toThrow()
    expect(() => keepSigintForTheGateway(null)).not.toThrow()
  })
})
