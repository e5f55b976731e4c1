#!/usr/bin/env node
// Thin shim: the CLI is compiled TypeScript in dist/. Kept in plain JS so `npm install -g` and
// systemd can run it without a TypeScript toolchain.
import { existsSync } from 'node:fs'

const entry = new URL('../dist/gateway/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write(`edge-gateway: ${entry.pathname} is missing; run npm run build\n`)
  process.exit(70) // EX_SOFTWARE: the installation is incomplete, not the user's input
}
const { main } = await import(entry.href)
process.exit(await main(process.argv))
