/**
 * deploy/install.sh, upgrade.sh and uninstall.sh against a temporary root (DESTDIR), with the
 * package `npm run package` builds. Nothing outside the temporary root is touched:
 * - users and groups go to DESTDIR/etc/passwd and group (seeded like a Raspberry Pi OS image):
 *   as root with the real `useradd --prefix` & co. and a real `chown`; as an unprivileged user
 *   through fakes on PATH that edit the same files, and a `chown` that records what it was asked;
 * - `systemctl` is a fake that logs its calls and answers `is-active` with "failed" when the
 *   `current` release is the one the test marks as broken;
 * - `npm` is a fake that links the repository's node_modules (a real `npm ci` needs the registry).
 * Modes are always checked on disk; owners on disk when root, else from the chown record.
 */
import { execFile } from 'node:child_process'
import { appendFileSync, chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LevelStore } from '../gateway/store/level-store.js'
import { makeEvents } from './contract/store-contract-support.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const IS_ROOT = process.getuid?.() === 0

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd ?? ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0
      resolve({ code, stdout: String(stdout), stderr: String(stderr) })
    })
  })
}

/** Always on PATH. */
const FAKES: Record<string, string> = {
  systemctl: `#!/bin/bash
echo "systemctl $*" >>"$FAKE_LOG"
if [ "$1" = is-active ]; then
  cur=$(basename "$(readlink "$DESTDIR/opt/edge-gateway/current")")
  if [ "$FAKE_FAIL_VERSION" = all ] || [ "$cur" = "$FAKE_FAIL_VERSION" ]; then echo failed; exit 3; fi
  echo active
fi`,
  npm: `#!/bin/bash
echo "npm $* (in $(basename "$PWD"))" >>"$FAKE_LOG"
ln -s "$REPO_NODE_MODULES" node_modules`,
  'node-old': `#!/bin/bash
echo 18.19.0`,
}

/** On PATH only without root: the root-only commands, acting on --prefix DIR/etc/{passwd,group}. */
const ROOT_FAKES: Record<string, string> = {
  groupadd: `#!/bin/bash
while [ $# -gt 1 ]; do case "$1" in --prefix) prefix="$2"; shift;; esac; shift; done
db="$prefix/etc/group"; grep -q "^$1:" "$db" && { echo "groupadd: group '$1' already exists" >&2; exit 9; }
echo "$1:x:$((900 + $(wc -l <"$db"))):" >>"$db"`,
  useradd: `#!/bin/bash
while [ $# -gt 1 ]; do case "$1" in --prefix) prefix="$2"; shift;; --gid) gid="$2"; shift;; --home-dir) home="$2"; shift;;
  --shell) shell="$2"; shift;; --comment) comment="$2"; shift;; esac; shift; done
gidnum=$(awk -F: -v n="$gid" '$1 == n { print $3 }' "$prefix/etc/group")
[ -n "$gidnum" ] || { echo "useradd: group '$gid' does not exist" >&2; exit 6; }
echo "$1:x:$((800 + $(wc -l <"$prefix/etc/passwd"))):$gidnum:$comment:$home:$shell" >>"$prefix/etc/passwd"`,
  userdel: `#!/bin/bash
[ "$1" = --prefix ] && { prefix="$2"; shift 2; }; sed -i "/^$1:/d" "$prefix/etc/passwd"`,
  groupdel: `#!/bin/bash
[ "$1" = --prefix ] && { prefix="$2"; shift 2; }; sed -i "/^$1:/d" "$prefix/etc/group"`,
  chown: `#!/bin/bash
flags=(); while [[ "$1" == -* ]]; do flags+=("$1"); shift; done
for p in "\${@:2}"; do printf '%s\t%s\t%s\n' "$1" "\${flags[*]}" "$p" >>"$FAKE_CHOWN_LOG"; done`,
}

interface Sandbox {
  dir: string
  destdir: string
  log: string
  /** Set when the root-only commands are fakes (owners come from the chown record). */
  chownLog?: string
  env: NodeJS.ProcessEnv
}

function makeSandbox(base: string, name: string, opts: { fakeRoot?: boolean } = {}): Sandbox {
  const fakeRoot = opts.fakeRoot ?? !IS_ROOT
  const dir = path.join(base, name)
  const fakebin = path.join(dir, 'fakebin')
  const destdir = path.join(dir, 'root')
  for (const d of [fakebin, path.join(destdir, 'etc')]) mkdirSync(d, { recursive: true })
  const fakes = { ...FAKES, ...(fakeRoot ? ROOT_FAKES : {}) }
  for (const [file, text] of Object.entries(fakes)) writeFileSync(path.join(fakebin, file), text + '\n', { mode: 0o755 })
  // The image's user database: root and dialout exist, gpio and bluetooth do not (plain Debian).
  const seed = { passwd: 'root:x:0:0:root:/root:/bin/bash\n', group: 'root:x:0:\ndialout:x:20:\n', shadow: '', gshadow: '' }
  for (const [file, text] of Object.entries(seed)) {
    writeFileSync(path.join(destdir, 'etc', file), text)
    chmodSync(path.join(destdir, 'etc', file), 0o666) // the unprivileged variant's fakes edit them
  }
  const log = path.join(dir, 'calls.log')
  const chownLog = path.join(dir, 'chown.log')
  for (const f of [log, chownLog]) {
    writeFileSync(f, '')
    chmodSync(f, 0o666)
  }
  const env = {
    ...process.env,
    PATH: `${fakebin}:${process.env.PATH}`,
    DESTDIR: destdir,
    SYSTEMCTL: path.join(fakebin, 'systemctl'),
    NPM: path.join(fakebin, 'npm'),
    FAKE_LOG: log,
    FAKE_CHOWN_LOG: chownLog,
    REPO_NODE_MODULES: path.join(ROOT, 'node_modules'),
    READY_TIMEOUT: '5',
  }
  return { dir, destdir, log, chownLog: fakeRoot ? chownLog : undefined, env }
}

function idNames(sb: Sandbox, file: 'passwd' | 'group'): Map<string, string> {
  const lines = readFileSync(path.join(sb.destdir, 'etc', file), 'utf8').trim().split('\n')
  return new Map(lines.map((l) => [l.split(':')[2]!, l.split(':')[0]!]))
}

/** user:group of a path, by the names in the temporary root's database. */
function ownerOf(sb: Sandbox, rel: string): string {
  const abs = path.join(sb.destdir, rel)
  let ids = '0:0' // what a root-run script leaves on what it does not chown
  if (sb.chownLog === undefined) {
    const st = lstatSync(abs)
    ids = `${st.uid}:${st.gid}`
  } else {
    for (const line of readFileSync(sb.chownLog, 'utf8').trim().split('\n').filter(Boolean)) {
      const [spec, flags, raw] = line.split('\t') as [string, string, string]
      const p = raw.replace(/\.(new|partial)$/, '') // put_file and deploy_release chown, then rename
      if (p === abs || (flags.includes('-R') && abs.startsWith(p + '/'))) ids = spec
    }
  }
  const [uid, gid] = ids.split(':') as [string, string]
  return `${idNames(sb, 'passwd').get(uid) ?? uid}:${idNames(sb, 'group').get(gid) ?? gid}`
}

interface Expected {
  type: 'dir' | 'file' | 'link'
  mode?: number
  owner?: string
  target?: string
}

/** Everything install.sh creates outside the release directory, with mode and owner. */
function installManifest(version: string): Record<string, Expected> {
  const rel = `/opt/edge-gateway/releases/${version}`
  const parents = ['/opt', '/etc', '/etc/systemd', '/etc/systemd/system', '/etc/udev', '/etc/udev/rules.d', '/usr', '/usr/local', '/usr/local/bin', '/var', '/var/lib']
  return {
    ...Object.fromEntries(parents.map((p) => [p, { type: 'dir' } as Expected])),
    '/opt/edge-gateway': { type: 'dir', mode: 0o755, owner: 'root:root' },
    '/opt/edge-gateway/releases': { type: 'dir', mode: 0o755, owner: 'root:root' },
    [rel]: { type: 'dir', mode: 0o755, owner: 'root:root' },
    '/opt/edge-gateway/current': { type: 'link', target: `releases/${version}` },
    '/etc/edge-gateway': { type: 'dir', mode: 0o750, owner: 'root:edge-gateway' },
    '/etc/edge-gateway/config.yaml': { type: 'file', mode: 0o640, owner: 'root:edge-gateway' },
    '/etc/edge-gateway/environment': { type: 'file', mode: 0o600, owner: 'root:root' },
    '/var/lib/edge-gateway': { type: 'dir', mode: 0o750, owner: 'edge-gateway:edge-gateway' },
    '/etc/systemd/system/edge-gateway.service': { type: 'file', mode: 0o644, owner: 'root:root' },
    '/etc/udev/rules.d/99-edge-gateway-serial.rules': { type: 'file', mode: 0o644, owner: 'root:root' },
    '/usr/local/bin/edge-gateway': { type: 'link', target: '/opt/edge-gateway/current/bin/edge-gateway.js' },
  }
}

/** Every path under the root, as "/a/b"; the release directory's content is not descended into. */
function walk(root: string, rel = '', skip: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(path.join(root, rel))) {
    const p = `${rel}/${name}`
    out.push(p)
    const st = lstatSync(path.join(root, p))
    if (st.isDirectory() && !p.startsWith(skip)) out.push(...walk(root, p, skip))
  }
  return out
}

function checkManifest(sb: Sandbox, manifest: Record<string, Expected>, releaseDir: string): void {
  const seeded = /^\/etc\/(passwd|group|shadow|gshadow)-?$/ // the image's, edited in place
  const found = walk(sb.destdir, '', releaseDir).filter((p) => !p.startsWith(releaseDir + '/') && !seeded.test(p))
  expect(found.sort()).toEqual(Object.keys(manifest).sort())
  for (const [p, exp] of Object.entries(manifest)) {
    const st = lstatSync(path.join(sb.destdir, p))
    const type = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file'
    expect({ p, type }).toEqual({ p, type: exp.type })
    if (exp.mode !== undefined) expect({ p, mode: (st.mode & 0o7777).toString(8) }).toEqual({ p, mode: exp.mode.toString(8) })
    if (exp.owner !== undefined) expect({ p, owner: ownerOf(sb, p) }).toEqual({ p, owner: exp.owner })
    if (exp.target !== undefined) expect(readlinkSync(path.join(sb.destdir, p))).toBe(exp.target)
  }
}

/** The release: the package's files, root-owned, nothing group/world-writable, no tests or maps. */
function checkRelease(sb: Sandbox, version: string): void {
  const rel = `/opt/edge-gateway/releases/${version}`
  const abs = path.join(sb.destdir, rel)
  expect(readdirSync(abs).sort()).toEqual(['README.md', 'bin', 'deploy', 'dist', 'node_modules', 'package-lock.json', 'package.json', 'systemd'])
  expect(readdirSync(path.join(abs, 'dist')).sort()).toEqual(['drivers', 'firmware-sim', 'gateway'])
  const pkg = JSON.parse(readFileSync(path.join(abs, 'package.json'), 'utf8')) as { version: string; scripts?: unknown }
  expect(pkg.version).toBe(version)
  expect(pkg.scripts).toBeUndefined() // `prepare` would run tsc during npm ci --omit=dev
  expect((statSync(path.join(abs, 'bin/edge-gateway.js')).mode & 0o777).toString(8)).toBe('755')
  expect((statSync(path.join(abs, 'deploy/install.sh')).mode & 0o777).toString(8)).toBe('755')
  for (const p of walk(sb.destdir, rel, `${rel}/node_modules`)) {
    const st = lstatSync(path.join(sb.destdir, p))
    expect(p.endsWith('.map')).toBe(false)
    if (!st.isSymbolicLink()) expect({ p, writableByOthers: (st.mode & 0o022) !== 0 }).toEqual({ p, writableByOthers: false })
  }
  expect(ownerOf(sb, `${rel}/dist/gateway/cli/main.js`)).toBe('root:root')
  expect(readFileSync(path.join(sb.destdir, '/etc/systemd/system/edge-gateway.service'), 'utf8')).toBe(
    readFileSync(path.join(abs, 'systemd/edge-gateway.service'), 'utf8'),
  )
}

const calls = (sb: Sandbox): string[] => readFileSync(sb.log, 'utf8').trim().split('\n').filter(Boolean)
const current = (sb: Sandbox): string => readlinkSync(path.join(sb.destdir, 'opt/edge-gateway/current'))

let base: string
const pkgs: Record<string, string> = {}

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'eg-deploy-'))
  chmodSync(base, 0o755)
  const out = path.join(base, 'packages')
  // dist/ was built by the global setup; --no-build keeps other test files' dist/ stable.
  const first = await run('npm', ['run', '--silent', 'package', '--', '--no-build', '--out', out, '--version', '1.0.0'])
  expect(first, first.stderr).toMatchObject({ code: 0 })
  for (const v of ['1.1.0', '1.2.0']) {
    const r = await run(process.execPath, ['scripts/package.mjs', '--no-build', '--out', out, '--version', v])
    expect(r, r.stderr).toMatchObject({ code: 0 })
  }
  for (const v of ['1.0.0', '1.1.0', '1.2.0']) pkgs[v] = path.join(out, `edge-gateway-${v}.tar.gz`)
  expect(first.stdout.trim()).toBe(pkgs['1.0.0'])
  const unpacked = path.join(base, 'unpacked')
  mkdirSync(unpacked)
  const x = await run('tar', ['-xzf', pkgs['1.0.0']!, '-C', unpacked])
  expect(x.code).toBe(0)
})

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true })
})

describe('install, upgrade, rollback, uninstall in a temporary root', () => {
  let sb: Sandbox

  it('install.sh (run from the unpacked package) creates exactly the manifest, enables but does not start the example config', async () => {
    sb = makeSandbox(base, 'main')
    const hostUsers = await run('getent', ['passwd', 'edge-gateway'])
    const r = await run('bash', [path.join(base, 'unpacked/edge-gateway-1.0.0/deploy/install.sh')], { env: sb.env })
    expect(r.code, r.stderr + r.stdout).toBe(0)
    expect(await run('getent', ['passwd', 'edge-gateway'])).toEqual(hostUsers) // this machine's users are untouched
    expect(r.stdout).toContain('not started: /etc/edge-gateway/config.yaml is the example')

    checkManifest(sb, installManifest('1.0.0'), '/opt/edge-gateway/releases/1.0.0')
    checkRelease(sb, '1.0.0')
    const read = (p: string): string => readFileSync(path.join(sb.destdir, p), 'utf8')
    expect(read('/etc/edge-gateway/config.yaml')).toBe(readFileSync(path.join(ROOT, 'deploy/edge-gateway.example.yaml'), 'utf8'))
    expect(read('/etc/udev/rules.d/99-edge-gateway-serial.rules')).toBe(readFileSync(path.join(ROOT, 'deploy/udev/99-edge-gateway-serial.rules'), 'utf8'))
    expect(read('/etc/edge-gateway/environment')).toMatch(/^#MQTT_PASSWORD=$/m)

    // A system user with no login, home = the state dir; the missing groups were created.
    expect(readFileSync(path.join(sb.destdir, 'etc/passwd'), 'utf8')).toMatch(/^edge-gateway:x:\d+:\d+:[^:]*:\/var\/lib\/edge-gateway:\/usr\/sbin\/nologin$/m)
    expect(readFileSync(path.join(sb.destdir, 'etc/group'), 'utf8').match(/^[^:]+/gm)).toEqual(['root', 'dialout', 'edge-gateway', 'gpio', 'bluetooth'])
    expect(calls(sb)).toEqual([
      'npm ci --omit=dev --no-audit --no-fund (in 1.0.0.partial)',
      'systemctl daemon-reload',
      'systemctl enable edge-gateway',
    ])

    // The installed release runs: the CLI validates the installed config.
    const check = await run(process.execPath, [path.join(sb.destdir, 'opt/edge-gateway/current/bin/edge-gateway.js'), 'config', 'check', path.join(sb.destdir, 'etc/edge-gateway/config.yaml')], {
      env: { ...process.env, MQTT_PASSWORD: 'x' },
    })
    expect(check, check.stderr).toMatchObject({ code: 0 })
  })

  it('install.sh refuses to run over an existing installation', async () => {
    const r = await run('bash', [path.join(ROOT, 'deploy/install.sh'), pkgs['1.1.0']!], { env: sb.env })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('edge-gateway 1.0.0 is already installed; use upgrade.sh')
    expect(current(sb)).toBe('releases/1.0.0')
  })

  it('upgrade.sh switches to the new release and restarts it, keeping config and queue', async () => {
    appendFileSync(path.join(sb.destdir, 'etc/edge-gateway/config.yaml'), '# edited by the operator\n')
    const config = readFileSync(path.join(sb.destdir, 'etc/edge-gateway/config.yaml'), 'utf8')
    mkdirSync(path.join(sb.destdir, 'var/lib/edge-gateway/queue'))
    writeFileSync(path.join(sb.destdir, 'var/lib/edge-gateway/queue/000001.log'), 'queued events')
    writeFileSync(sb.log, '')

    const r = await run('bash', [path.join(ROOT, 'deploy/upgrade.sh'), pkgs['1.1.0']!], { env: sb.env })
    expect(r.code, r.stderr + r.stdout).toBe(0)
    expect(current(sb)).toBe('releases/1.1.0')
    checkRelease(sb, '1.1.0')
    expect(existsSync(path.join(sb.destdir, 'opt/edge-gateway/releases/1.0.0'))).toBe(true) // kept for rollbacks
    expect(readFileSync(path.join(sb.destdir, 'etc/edge-gateway/config.yaml'), 'utf8')).toBe(config)
    expect(readFileSync(path.join(sb.destdir, 'var/lib/edge-gateway/queue/000001.log'), 'utf8')).toBe('queued events')
    expect(ownerOf(sb, '/var/lib/edge-gateway')).toBe('edge-gateway:edge-gateway')
    expect(calls(sb)).toEqual([
      'npm ci --omit=dev --no-audit --no-fund (in 1.1.0.partial)',
      'systemctl daemon-reload',
      'systemctl restart edge-gateway',
      'systemctl is-active edge-gateway',
    ])
  })

  it('upgrade.sh rolls back to the previous release when the new one does not become active', async () => {
    writeFileSync(sb.log, '')
    const r = await run('bash', [path.join(ROOT, 'deploy/upgrade.sh'), pkgs['1.2.0']!], { env: { ...sb.env, FAKE_FAIL_VERSION: '1.2.0' } })
    expect(r.code, r.stderr + r.stdout).toBe(1)
    expect(r.stderr).toContain('edge-gateway 1.2.0 did not become active within 5s; rolling back to 1.1.0')
    expect(r.stderr).toContain('rolled back: edge-gateway 1.1.0 is active again')
    expect(current(sb)).toBe('releases/1.1.0')
    // The unit is the previous release's again; the failed release stays for inspection.
    expect(readFileSync(path.join(sb.destdir, 'etc/systemd/system/edge-gateway.service'), 'utf8')).toBe(
      readFileSync(path.join(sb.destdir, 'opt/edge-gateway/releases/1.1.0/systemd/edge-gateway.service'), 'utf8'),
    )
    expect(existsSync(path.join(sb.destdir, 'opt/edge-gateway/releases/1.2.0/dist'))).toBe(true)
    expect(calls(sb).filter((c) => c.startsWith('systemctl'))).toEqual([
      'systemctl daemon-reload',
      'systemctl restart edge-gateway',
      'systemctl is-active edge-gateway',
      'systemctl stop edge-gateway',
      'systemctl daemon-reload',
      'systemctl restart edge-gateway',
      'systemctl is-active edge-gateway',
    ])
  })

  it('upgrade.sh exits 2 when the rollback does not come up either', async () => {
    const r = await run('bash', [path.join(ROOT, 'deploy/upgrade.sh'), pkgs['1.2.0']!], { env: { ...sb.env, FAKE_FAIL_VERSION: 'all' } })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('the rollback to 1.1.0 did not become active either')
    expect(current(sb)).toBe('releases/1.1.0')
  })

  it('uninstall.sh removes the app and the unit but keeps config, queue and user; install.sh again starts with them; --purge removes them', async () => {
    writeFileSync(sb.log, '')
    const r = await run('bash', [path.join(ROOT, 'deploy/uninstall.sh')], { env: sb.env })
    expect(r.code, r.stderr).toBe(0)
    for (const gone of ['opt/edge-gateway', 'etc/systemd/system/edge-gateway.service', 'usr/local/bin/edge-gateway']) {
      expect(existsSync(path.join(sb.destdir, gone)), gone).toBe(false)
    }
    expect(readFileSync(path.join(sb.destdir, 'var/lib/edge-gateway/queue/000001.log'), 'utf8')).toBe('queued events')
    expect(existsSync(path.join(sb.destdir, 'etc/edge-gateway/config.yaml'))).toBe(true)
    expect(existsSync(path.join(sb.destdir, 'etc/udev/rules.d/99-edge-gateway-serial.rules'))).toBe(true)
    expect(readFileSync(path.join(sb.destdir, 'etc/passwd'), 'utf8')).toContain('edge-gateway:')
    expect(calls(sb)).toEqual(['systemctl disable --now edge-gateway', 'systemctl daemon-reload', 'systemctl reset-failed edge-gateway'])

    // Installing again finds the kept config and queue, and starts the service this time.
    writeFileSync(sb.log, '')
    const again = await run('bash', [path.join(ROOT, 'deploy/install.sh'), pkgs['1.1.0']!], { env: sb.env })
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('kept the existing /etc/edge-gateway/config.yaml')
    expect(again.stdout).toContain('edge-gateway 1.1.0 is running')
    expect(calls(sb)).toEqual([
      'npm ci --omit=dev --no-audit --no-fund (in 1.1.0.partial)',
      'systemctl daemon-reload',
      'systemctl enable edge-gateway',
      'systemctl restart edge-gateway',
      'systemctl is-active edge-gateway',
    ])
    expect(readFileSync(path.join(sb.destdir, 'var/lib/edge-gateway/queue/000001.log'), 'utf8')).toBe('queued events')

    const purge = await run('bash', [path.join(ROOT, 'deploy/uninstall.sh'), '--purge', '--no-systemctl'], { env: sb.env })
    expect(purge.code, purge.stderr).toBe(0)
    for (const gone of ['opt/edge-gateway', 'etc/edge-gateway', 'var/lib/edge-gateway', 'etc/udev/rules.d/99-edge-gateway-serial.rules']) {
      expect(existsSync(path.join(sb.destdir, gone)), gone).toBe(false)
    }
    expect(readFileSync(path.join(sb.destdir, 'etc/passwd'), 'utf8')).not.toContain('edge-gateway:')
    expect(readFileSync(path.join(sb.destdir, 'etc/group'), 'utf8')).toContain('gpio:') // shared groups stay
  })
})

describe('a rollback and the store key layout', () => {
  it('upgrade.sh moves the queue back to key layout 1 before it restarts the previous release', async () => {
    const sb = makeSandbox(base, 'layout')
    const install = await run('bash', [path.join(ROOT, 'deploy/install.sh'), pkgs['1.0.0']!], { env: sb.env })
    expect(install.code, install.stderr + install.stdout).toBe(0)
    // The queue as the failing release left it: it moved the keys to layout 2 when it started.
    const queue = path.join(sb.destdir, 'var/lib/edge-gateway/queue')
    const store = new LevelStore({ dir: queue, maxBytes: 1e9, maxAgeMs: 1e12, uplinks: ['cloud'] })
    await store.open()
    await store.append({ events: makeEvents(0, 3), counters: new Map([['src', 3]]) })
    await store.close()
    if (IS_ROOT) chownSync(queue, 4321, 4321) // the service user's, as the service runs

    const r = await run('bash', [path.join(ROOT, 'deploy/upgrade.sh'), pkgs['1.2.0']!], { env: { ...sb.env, FAKE_FAIL_VERSION: '1.2.0' } })
    expect(r.code, r.stderr + r.stdout).toBe(1)
    expect(r.stdout).toContain(`moved 5 keys of ${queue} to layout 1`)
    // Files LevelDB made while moving belong to the queue's owner, not to root (checked before this
    // test opens the store itself, as root).
    if (IS_ROOT) for (const f of readdirSync(queue)) expect({ f, uid: statSync(path.join(queue, f)).uid }).toEqual({ f, uid: 4321 })
    const db = new Level<string, Buffer>(queue, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    const keys = await db.keys().all().finally(() => db.close())
    expect(keys.filter((k) => !k.startsWith('e!'))).toEqual(['m!c', 'm!f!a', 'm!f!t', 'm!t', 's!src'])
    expect(calls(sb).filter((c) => c.startsWith('systemctl stop'))).toEqual(['systemctl stop edge-gateway'])
  })
})

describe('install.sh preconditions', () => {
  it('stops with a clear message when node is older than 20.19', async () => {
    const sb = makeSandbox(base, 'old-node')
    const r = await run('bash', [path.join(ROOT, 'deploy/install.sh'), pkgs['1.0.0']!, '--no-systemctl'], {
      env: { ...sb.env, NODE: path.join(sb.dir, 'fakebin/node-old') },
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Node.js >= 20.19.0 is required, found 18.19.0')
    expect(readdirSync(sb.destdir)).toEqual(['etc']) // nothing was created besides the seeded database
  })

  it.runIf(IS_ROOT)('works as an unprivileged user too (root-only commands faked, owners recorded)', async () => {
    const sb = makeSandbox(base, 'unprivileged', { fakeRoot: true })
    for (const p of [sb.dir, sb.destdir, path.join(sb.destdir, 'etc')]) chmodSync(p, 0o777)
    const r = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', path.join(ROOT, 'deploy/install.sh'), pkgs['1.0.0']!, '--no-systemctl'], {
      env: sb.env,
    })
    expect(r.code, r.stderr + r.stdout).toBe(0)
    checkManifest(sb, installManifest('1.0.0'), '/opt/edge-gateway/releases/1.0.0')
    expect(readFileSync(path.join(sb.destdir, 'etc/passwd'), 'utf8')).toMatch(/^edge-gateway:x:/m)
  })
})

describe('udev rule example', () => {
  it('has only well-formed rules: KEY=="value" pairs, a symlink under edge-gateway/', () => {
    const lines = readFileSync(path.join(ROOT, 'deploy/udev/99-edge-gateway-serial.rules'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    expect(lines.length).toBeGreaterThan(0)
    const pair = String.raw`[A-Z_]+(\{[A-Za-z_]+\})?\s*(==|!=|\+=|=|:=)\s*"[^"]*"`
    for (const l of lines) {
      expect(l).toMatch(new RegExp(`^${pair}(\\s*,\\s*${pair})*$`))
      expect(l).toMatch(/SUBSYSTEM=="tty"/)
      expect(l).toMatch(/SYMLINK\+="edge-gateway\/[a-z0-9-]+"/)
    }
  })
})
