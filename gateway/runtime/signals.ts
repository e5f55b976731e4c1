/** Waits for SIGINT/SIGTERM. A second signal while stopping forces an exit (an operator's Ctrl-C twice). */
export function waitForStopSignal(onForce: () => void = () => process.exit(130)): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false
    const handler = (sig: NodeJS.Signals): void => {
      if (received) return onForce()
      received = true
      resolve(sig)
    }
    process.on('SIGINT', handler)
    process.on('SIGTERM', handler)
  })
}
