#!/usr/bin/env node
/**
 * `npm run package`: builds the versioned tarball deploy/install.sh and deploy/upgrade.sh install.
 *
 *   npm run package [-- --out DIR] [--version X.Y.Z] [--no-build]
 *
 * Output: DIR/edge-gateway-VERSION.tar.gz (default DIR: packages/), one top-level directory
 * edge-gateway-VERSION/ with bin/, dist/ (without tests and benches, without source maps),
 * package.json, package-lock.json, systemd/, deploy/ and README.md. No node_modules: the target
 * runs `npm ci --omit=dev` for its own CPU and Node ABI (native modules: LevelDB, serialport, BLE).
 *
 * The packaged package.json has no lifecycle scripts: `prepare` would run `tsc` during
 * `npm ci --omit=dev`, where TypeScript is not installed. Its dependencies stay exactly as in the
 * lock file (npm ci refuses a package.json that disagrees with its lock).
 * Reproducible: fixed owner (root) and mtime (SOURCE_DATE_EPOCH, else the last commit's time).
 */
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function parseArgs(argv) {
  const opts = { out: path.join(ROOT, 'packages'), version: undefined, build: true }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--out') opts.out = path.resolve(argv[++i] ?? fail('--out needs a directory'))
    else if (a === '--version') opts.version = argv[++i] ?? fail('--version needs a value')
    else if (a === '--no-build') opts.build = false
    else fail(`unknown argument ${a} (usage: npm run package -- [--out DIR] [--version X.Y.Z] [--no-build])`)
  }
  return opts
}

function fail(message) {
  process.stderr.write(`package: ${message}\n`)
  process.exit(64)
}

function build() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' })
}

/** dist/ minus what only tests and benches use, and minus source maps (their sources are not shipped). */
function copyDist(to) {
  const skip = new Set([path.join(ROOT, 'dist', 'test'), path.join(ROOT, 'dist', 'bench')])
  cpSync(path.join(ROOT, 'dist'), path.join(to, 'dist'), {
    recursive: true,
    filter: (src) => !skip.has(src) && !src.endsWith('.map'),
  })
}

function packagedManifest(version) {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'))
  pkg.version = version
  delete pkg.scripts
  lock.version = version
  if (lock.packages?.['']) lock.packages[''].version = version
  return { pkg, lock }
}

function sourceDateEpoch() {
  if (process.env.SOURCE_DATE_EPOCH) return process.env.SOURCE_DATE_EPOCH
  try {
    return execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return '0'
  }
}

function main() {
  const opts = parseArgs(process.argv.slice(2))
  if (opts.build) build()
  if (!existsSync(path.join(ROOT, 'dist', 'gateway', 'cli', 'main.js'))) fail('dist/ is missing: run without --no-build')
  const version = opts.version ?? JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version
  if (!/^[0-9A-Za-z][0-9A-Za-z.+_-]*$/.test(version)) fail(`invalid version ${JSON.stringify(version)}`)
  const name = `edge-gateway-${version}`
  const stage = mkdtempSync(path.join(tmpdir(), 'edge-gateway-package-'))
  try {
    const dir = path.join(stage, name)
    mkdirSync(dir)
    for (const item of ['bin', 'systemd', 'deploy', 'README.md']) {
      if (existsSync(path.join(ROOT, item))) cpSync(path.join(ROOT, item), path.join(dir, item), { recursive: true })
    }
    copyDist(dir)
    const { pkg, lock } = packagedManifest(version)
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
    writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2) + '\n')
    mkdirSync(opts.out, { recursive: true })
    const out = path.join(opts.out, `${name}.tar.gz`)
    execFileSync('tar', [
      '--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${sourceDateEpoch()}`,
      '-czf', out, '-C', stage, name,
    ])
    process.stdout.write(`${out}\n`)
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}

main()
