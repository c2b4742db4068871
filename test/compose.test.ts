import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import {
  clusterPorts,
  clusterWorkerEnv,
  DEFAULT_NAMESPACE,
  DYNAMIC_CONFIG_FILE,
  nodeEnvironment,
  retentionSeconds,
  SCHEMA_SCRIPT,
  searchAttributes,
  SHARED_ENV_FILE,
  temporalChoices,
  WORKER_COUNT,
} from '../scripts/cluster/config.js';
import { TEMPORAL_SERVER_VERSION, UI_SERVER_VERSION } from '../scripts/cluster/paths.js';
import { SEARCH_ATTRIBUTE_TYPES } from '../workflows/contract.js';

const COMPOSE = process.env.DOCKER_COMPOSE ?? 'docker-compose';
const available = spawnSync(COMPOSE, ['version'], { encoding: 'utf8' }).status === 0;
// js-yaml (a dev dependency) reads what `config` prints.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

const SECRETS = { POSTGRES_PASSWORD: 'from-the-environment' };

function compose(args: string[], env: Record<string, string | undefined>) {
  const childEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return spawnSync(COMPOSE, args, { encoding: 'utf8', env: childEnv });
}

interface Service {
  image?: string;
  entrypoint?: string[] | string;
  volumes?: (string | { source?: string; target?: string })[];
  ports?: (string | number | { host_ip?: string; published?: string | number; target: number })[];
  profiles?: string[];
  environment?: Record<string, string | number | null>;
  depends_on?: Record<string, unknown> | string[];
  network_mode?: string;
  command?: string[] | string;
}

let withSecretsOnly: Record<string, Service> | undefined;

/** The resolved file as `docker-compose config` prints it, all profiles on. */
function resolved(env?: Record<string, string | undefined>): Record<string, Service> {
  if (!env) return (withSecretsOnly ??= resolved(SECRETS));
  const profiles = ['dev', 'encryption', 'cli'].flatMap((p) => ['--profile', p]);
  const run = compose([...profiles, 'config'], env);
  assert.equal(run.status, 0, run.stderr);
  return (yaml.load(run.stdout) as { services: Record<string, Service> }).services;
}

interface Published {
  service: string;
  hostIp: string;
  published: string;
  target: string;
}

/** Every published port, short syntax (`[ip:]published:target[/proto]`) or long, as v1 and v2 print them. */
function publishedPorts(services: Record<string, Service>): Published[] {
  const out: Published[] = [];
  for (const [service, s] of Object.entries(services)) {
    for (const port of s.ports ?? []) {
      if (typeof port === 'object') {
        out.push({
          service,
          hostIp: port.host_ip ?? '',
          published: String(port.published ?? ''),
          target: String(port.target),
        });
        continue;
      }
      const parts = String(port)
        .replace(/\/\w+$/, '')
        .split(':');
      const target = parts.pop()!;
      const published = parts.pop() ?? '';
      out.push({ service, hostIp: parts.join(':'), published, target });
    }
  }
  return out;
}

const ALL_INTERFACES = new Set(['', '0.0.0.0', '::', '[::]']);
/** Services whose published port has authentication of its own. None so far: everything is on loopback. */
const AUTHENTICATED = new Set<string>();

describe('docker-compose.yml (production topology)', function () {
  before(function () {
    if (!available) {
      // scripts/setup.sh installs Debian's docker-compose; without it this check cannot run.
      console.warn(`SKIPPED: ${COMPOSE} is not installed, so docker-compose.yml was not validated`);
      this.skip();
    }
  });

  it('is valid for `docker-compose config -q` once the secrets are in the environment', () => {
    const run = compose(['config', '-q'], SECRETS);
    assert.equal(run.status, 0, run.stderr);
  });

  it('runs PostgreSQL, Temporal, the Web UI, two workers and the inbox (the sandbox, codec server and CLI in profiles)', () => {
    const services = Object.keys(resolved()).sort();
    for (const s of [
      'postgresql',
      'temporal',
      'temporal-setup',
      'temporal-ui',
      'sandbox',
      'worker-dev',
      'worker-1',
      'worker-2',
      'inbox',
      'codec-server',
      'cli',
    ]) {
      assert.ok(services.includes(s), `service ${s} in ${services.join(', ')}`);
    }
  });

  it('keeps the database password out of the file: without it, config names the variable', () => {
    const run = compose(['config', '-q'], { POSTGRES_PASSWORD: undefined });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr + run.stdout, /POSTGRES_PASSWORD/);
    const services = resolved();
    assert.equal(services.postgresql!.environment!.POSTGRES_PASSWORD, SECRETS.POSTGRES_PASSWORD);
    assert.equal(services.temporal!.environment!.POSTGRES_PWD, SECRETS.POSTGRES_PASSWORD);
  });

  it('publishes nothing on all interfaces that has no authentication of its own', () => {
    const ports = publishedPorts(resolved());
    assert.ok(ports.length >= 5, `the UI, Temporal, the inbox... are published (${ports.length})`);
    const open = ports.filter((p) => ALL_INTERFACES.has(p.hostIp) && !AUTHENTICATED.has(p.service));
    assert.deepEqual(
      open,
      [],
      open.map((p) => `${p.service} publishes ${p.published || '(random)'}:${p.target} on all interfaces`).join('; '),
    );
    for (const p of ports) assert.match(p.hostIp, /^127\./, `${p.service} ${p.target} on ${p.hostIp}`);
    for (const [service, target] of [
      ['temporal', '7233'],
      ['temporal-ui', '8080'],
      ['inbox', '8088'],
      ['codec-server', '8888'],
      ['sandbox', '8790'],
    ]) {
      assert.ok(
        ports.some((p) => p.service === service && p.target === target),
        `${service} ${target} is published, on loopback`,
      );
    }
  });

  it('has the sandbox only in the dev profile, and the workers do not default to it', () => {
    const services = resolved();
    assert.deepEqual(services.sandbox!.profiles, ['dev']);
    const onSandbox = Object.entries(services).filter(
      ([, s]) => s.network_mode === 'service:sandbox' || JSON.stringify(s.depends_on ?? {}).includes('sandbox'),
    );
    for (const [name, s] of onSandbox) assert.deepEqual(s.profiles, ['dev'], `${name} uses the sandbox`);
    for (const name of ['worker-1', 'worker-2']) {
      const env = services[name]!.environment!;
      assert.equal(services[name]!.profiles, undefined, `${name} runs without a profile`);
      assert.ok(
        !String(env.INVOICE_CLOUD_BASE_URL ?? '').includes('sandbox'),
        `${name}: ${env.INVOICE_CLOUD_BASE_URL}`,
      );
      for (const secret of [
        'INVOICE_CLOUD_APP_SECRET',
        'INVOICE_CLOUD_CONFIRM_PASSWORD',
        'INVOICE_CLOUD_DATA_PASSWORD',
      ]) {
        assert.ok(!env[secret], `${name}: ${secret} has no value in the file`);
      }
    }
    // The dev worker reaches the sandbox on its loopback: sandbox mode, the only place demo values apply.
    assert.equal(services['worker-dev']!.environment!.INVOICE_CLOUD_BASE_URL, 'http://127.0.0.1:8790');
  });

  it('the workers that run together stay within the tenant quota together (INVOICE_CLOUD_FLEET_SIZE)', () => {
    const services = resolved({ ...SECRETS, INVOICE_CLOUD_MAX_RPS: '20', INVOICE_CLOUD_FLEET_SIZE: undefined });
    const workers = Object.entries(services).filter(
      ([, s]) => !s.profiles && JSON.stringify(s.command ?? '').includes('workers/main.ts'),
    );
    assert.deepEqual(workers.map(([name]) => name).sort(), ['worker-1', 'worker-2']);
    let total = 0;
    for (const [name, s] of workers) {
      const env = Object.fromEntries(
        Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]),
      );
      assert.equal(env.INVOICE_CLOUD_MAX_RPS, '20', `${name} gets the tenant's quota from the host`);
      // The worker's own configuration reads it (on a loopback URL, so the tenant secrets can stay unset).
      const config = invoiceCloudConfigFromEnv({ ...env, INVOICE_CLOUD_BASE_URL: 'http://127.0.0.1:8790' });
      assert.ok(
        (config.quota?.fleetSize ?? 1) >= workers.length,
        `${name}: fleet size ${config.quota?.fleetSize} for ${workers.length} workers`,
      );
      total += config.maxRequestsPerSecond ?? Infinity;
    }
    assert.ok(total <= 20, `the workers' shares add up to ${total} requests per second, over the quota of 20`);
  });

  it('the codec server gets no token from the file, and refuses to start without one, naming the variable', () => {
    const services = resolved({ ...SECRETS, CODEC_AUTH_TOKEN: undefined });
    const env = services['codec-server']!.environment!;
    assert.ok(!env.CODEC_AUTH_TOKEN, `no default token (${env.CODEC_AUTH_TOKEN})`);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'security/codecServerMain.ts'], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)])),
        CODEC_HOST: '127.0.0.1',
        CODEC_PORT: '0',
        TEMPORAL_PAYLOAD_KEYS: `k1=${Buffer.alloc(32, 7).toString('base64')}`,
      },
      timeout: 30_000,
    });
    assert.equal(run.status, 2, run.stdout + run.stderr);
    assert.match(run.stdout + run.stderr, /CODEC_AUTH_TOKEN is not set/);
  });

  it('passes the Temporal connection, TLS and API key to every service that talks to Temporal', () => {
    const tls = {
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_TLS_CERT: '/run/secrets/client.pem',
      TEMPORAL_TLS_KEY: '/run/secrets/client.key',
      TEMPORAL_TLS_CA: '/run/secrets/ca.pem',
      TEMPORAL_TLS_SERVER_NAME: 'ns.acct.tmprl.cloud',
      TEMPORAL_API_KEY: 'api-key-from-the-environment',
    };
    const services = resolved({ ...SECRETS, ...tls });
    for (const name of ['worker-1', 'worker-2', 'worker-dev', 'inbox', 'cli', 'temporal-setup']) {
      for (const [k, v] of Object.entries(tls)) assert.equal(services[name]!.environment![k], v, `${name} ${k}`);
    }
    const ui = services['temporal-ui']!.environment!;
    for (const k of ['TEMPORAL_ADDRESS', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA'] as const) {
      assert.equal(ui[k], tls[k], `temporal-ui ${k}`);
    }
  });

  it('turns off the Web UI write actions (the inbox is the approval path)', () => {
    assert.equal(String(resolved()['temporal-ui']!.environment!.TEMPORAL_DISABLE_WRITE_ACTIONS), 'true');
  });

  it('starts the workers from the prebuilt bundle with health and metrics', () => {
    const run = compose(['config'], SECRETS);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /WORKFLOW_BUNDLE_PATH: \/app\/\.build\/workflow-bundle\.js/);
    assert.match(run.stdout, /METRICS_PORT: '?9464'?/);
  });
});

/** A service's environment as strings (`config` prints numbers for some). */
function envOf(service: Service): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]),
  );
}

/** Host path -> container path of a service's bind mounts, as `config` resolves them. */
function mounts(service: Service): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of service.volumes ?? []) {
    if (typeof v === 'string') {
      const [source, target] = v.split(':');
      if (source && target) out.set(resolve(source), target);
    } else if (v.source && v.target) out.set(resolve(v.source), v.target);
  }
  return out;
}

describe('docker-compose.yml and npm run cluster make the same choices', function () {
  const choices = temporalChoices();
  const ports = clusterPorts(20_000);
  const node = nodeEnvironment(1, ports, 'node-password', choices);

  before(function () {
    if (!available) {
      console.warn(`SKIPPED: ${COMPOSE} is not installed, so docker-compose.yml was not compared with the launcher`);
      this.skip();
    }
  });

  it('runs the Temporal server, admin tools and Web UI at the versions the launcher builds', () => {
    const services = resolved();
    assert.equal(TEMPORAL_SERVER_VERSION, `v${choices.TEMPORAL_SERVER_VERSION}`);
    assert.equal(UI_SERVER_VERSION, `v${choices.TEMPORAL_UI_VERSION}`);
    assert.equal(services.temporal!.image, `temporalio/server:${choices.TEMPORAL_SERVER_VERSION}`);
    for (const name of ['temporal-schema', 'temporal-setup']) {
      assert.equal(services[name]!.image, `temporalio/admin-tools:${choices.TEMPORAL_SERVER_VERSION}`, name);
    }
    assert.equal(services['temporal-ui']!.image, `temporalio/ui:${choices.TEMPORAL_UI_VERSION}`);
    // The launcher's build reads its versions from the shared file, never from a copy of its own.
    const setup = readFileSync('scripts/cluster/setup.sh', 'utf8');
    for (const version of [choices.TEMPORAL_SERVER_VERSION, choices.TEMPORAL_UI_VERSION]) {
      assert.ok(!setup.includes(version), `scripts/cluster/setup.sh names ${version} itself`);
    }
    assert.match(setup, /deploy\/temporal\/temporal\.env/);
  });

  it('configures the server as each cluster node: persistence, shards, connections, dynamic config', () => {
    const services = resolved();
    const temporal = envOf(services.temporal!);
    for (const key of [
      'DB',
      'DBNAME',
      'VISIBILITY_DBNAME',
      'POSTGRES_USER',
      'NUM_HISTORY_SHARDS',
      'SQL_MAX_CONNS',
      'SQL_VIS_MAX_CONNS',
    ]) {
      assert.equal(temporal[key], node[key], `${key}: compose ${temporal[key]}, cluster node ${node[key]}`);
    }
    assert.equal(node.NUM_HISTORY_SHARDS, '4');
    // The same dynamic config file: the node reads it in place, compose mounts it where the server looks.
    assert.equal(node.DYNAMIC_CONFIG_FILE_PATH, DYNAMIC_CONFIG_FILE);
    assert.equal(mounts(services.temporal!).get(resolve(DYNAMIC_CONFIG_FILE)), temporal.DYNAMIC_CONFIG_FILE_PATH);
    // PostgreSQL's role is the one the server and the schema tool log in as.
    assert.equal(envOf(services.postgresql!).POSTGRES_USER, choices.POSTGRES_USER);
  });

  it('sets up the schema with the script the launcher runs', () => {
    const schema = resolved()['temporal-schema']!;
    const target = mounts(schema).get(resolve(SCHEMA_SCRIPT, '..'));
    assert.ok(target, `deploy/temporal is mounted into temporal-schema (${[...mounts(schema).keys()].join(', ')})`);
    assert.deepEqual(schema.entrypoint, ['sh', `${target}/setup-schema.sh`]);
    const env = envOf(schema);
    for (const key of ['DB', 'DBNAME', 'VISIBILITY_DBNAME', 'POSTGRES_USER'] as const) {
      assert.equal(env[key], choices[key], key);
    }
    assert.equal(env.SQL_PASSWORD, SECRETS.POSTGRES_PASSWORD);
  });

  it('registers the namespace with the same retention and the search attributes the workflows use', () => {
    const services = resolved({ ...SECRETS, TEMPORAL_NAMESPACE: undefined });
    const setup = envOf(services['temporal-setup']!);
    assert.equal(setup.TEMPORAL_NAMESPACE, DEFAULT_NAMESPACE);
    assert.equal(setup.NAMESPACE_RETENTION, choices.NAMESPACE_RETENTION);
    assert.equal(retentionSeconds(choices), 24 * 3600);
    assert.deepEqual(
      searchAttributes({ ...choices, SEARCH_ATTRIBUTES: setup.SEARCH_ATTRIBUTES! }),
      SEARCH_ATTRIBUTE_TYPES,
    );
    assert.deepEqual(
      mounts(services['temporal-setup']!).get(resolve(SCHEMA_SCRIPT, '..')),
      '/deploy',
      'the namespace script comes from deploy/temporal',
    );
  });

  it('runs as many workers as the cluster, with the fleet size the cluster gives its workers', () => {
    const services = resolved({ ...SECRETS, INVOICE_CLOUD_FLEET_SIZE: undefined });
    const workers = Object.entries(services).filter(
      ([, s]) => !s.profiles && JSON.stringify(s.command ?? '').includes('workers/main.ts'),
    );
    assert.equal(workers.length, WORKER_COUNT);
    const launcher = clusterWorkerEnv({
      temporalAddress: '127.0.0.1:7233',
      namespace: DEFAULT_NAMESPACE,
      sandboxUrl: 'http://127.0.0.1:8790',
      bundlePath: 'bundle.js',
    });
    for (const [name, s] of workers) {
      assert.equal(envOf(s).INVOICE_CLOUD_FLEET_SIZE, launcher.INVOICE_CLOUD_FLEET_SIZE, name);
      assert.equal(envOf(s).TEMPORAL_NAMESPACE, launcher.TEMPORAL_NAMESPACE, name);
    }
  });
});

describe('deploy/temporal/temporal.env (the choices compose and the launcher share)', () => {
  it('is read and checked; a bad value is refused, naming its key', () => {
    const choices = temporalChoices();
    assert.equal(choices.DB, 'postgres12');
    assert.match(readFileSync(SHARED_ENV_FILE, 'utf8'), /^NUM_HISTORY_SHARDS=\d+$/m);
    const dir = mkdtempSync(join(tmpdir(), 'temporal-env-'));
    try {
      const bad = join(dir, 'temporal.env');
      writeFileSync(
        bad,
        readFileSync(SHARED_ENV_FILE, 'utf8').replace(/^NUM_HISTORY_SHARDS=.*$/m, 'NUM_HISTORY_SHARDS=four'),
      );
      assert.throws(() => temporalChoices(bad), /NUM_HISTORY_SHARDS: a whole number/);
      writeFileSync(bad, readFileSync(SHARED_ENV_FILE, 'utf8').replace(/^TEMPORAL_SERVER_VERSION=.*\n/m, ''));
      assert.throws(() => temporalChoices(bad), /TEMPORAL_SERVER_VERSION/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Dockerfile and .dockerignore', () => {
  it('builds on a supported Node.js LTS (22 or 24)', () => {
    const from = /^FROM\s+node:(\d+)/m.exec(readFileSync('Dockerfile', 'utf8'));
    assert.ok(from, 'the image is based on node:<major>');
    assert.ok(['22', '24'].includes(from[1]!), `node:${from[1]}`);
  });

  it('keeps keys, certificates, .env files and the real configuration out of the image', () => {
    const rules = readFileSync('.dockerignore', 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const rule of ['**/*.pem', '**/*.key', '**/.env', '**/.env.*', 'config/*.json', '!config/*.example.json']) {
      assert.ok(rules.includes(rule), `.dockerignore has ${rule}`);
    }
    // An exception after config/*.json must not let the registry back in.
    assert.ok(rules.indexOf('!config/*.example.json') > rules.indexOf('config/*.json'));
  });
});
