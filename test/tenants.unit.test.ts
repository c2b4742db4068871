import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTenants, readTenantsFile, TenantsFileError } from '../config/loadTenants.js';
import { parseRegistry, RegistryError } from '../client/registry.js';
import { scheduleOptionsFor } from '../client/schedules.js';
import { checkRegistryTenants, TenantOptionError } from '../client/tenantOption.js';
import { DEMO_TENANT } from '../simulator/demo.js';
import { MonthlyDeductionInput, TASK_QUEUE, tenantTaskQueue } from '../workflows/contract.js';
import { TEST_PERIOD } from './support/calendar.js';
import { TEST_APPROVERS } from './support/approvers.js';

const TAX_NO = '91440300591872133B';

/** A real https tenant with every value given, secrets by reference. */
function acme(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'acme',
    baseUrl: 'https://acme.invoice-cloud.example.com',
    appId: 'ACMEINV',
    appSecret: { env: 'ACME_SECRET' },
    tenantId: 'acme-kd',
    accountId: '1000000000000000001',
    user: 'acme.caiwu',
    userType: 'UserName',
    businessSystemCode: 'acme-erp',
    confirmPasswords: { [TAX_NO]: { file: 'secrets/confirm-133B' } },
    ...overrides,
  };
}

describe('tenants file', () => {
  let dir: string;
  let file: string;
  const write = (tenants: unknown[]) => writeFileSync(file, JSON.stringify({ tenants }));
  const env = { ACME_SECRET: 'acme-app-secret-value', NODE_ENV: 'production' };
  const failsWith = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof TenantsFileError, `a TenantsFileError, got ${String(e)}`);
      assert.match(e.message, pattern);
      assert.doesNotMatch(e.message, /acme-app-secret-value|confirm-secret-value/, 'no secret in the message');
      return true;
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vat-tenants-'));
    file = join(dir, 'tenants.json');
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'confirm-133B'), 'confirm-secret-value\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the committed example is valid and holds no secret value', () => {
    const example = readTenantsFile('config/tenants.example.json');
    assert.deepEqual(
      example.tenants.map((t) => t.id),
      ['shenzhen-group', 'shanghai-trading'],
    );
    for (const tenant of example.tenants) {
      assert.ok(tenant.appSecret && ('env' in tenant.appSecret || 'file' in tenant.appSecret));
    }
  });

  it('resolves secret references from the environment and from files relative to the tenants file', () => {
    writeFileSync(join(dir, 'secrets', 'data'), 'AbCdEfGhIjKlMnOp');
    write([acme({ dataPassword: { file: 'secrets/data' }, quota: { requestsPerSecond: 20, fleetSize: 2 } })]);
    const [tenant] = loadTenants(file, env);
    assert.equal(tenant!.id, 'acme');
    const c = tenant!.invoiceCloud;
    assert.equal(c.sandboxMode, false);
    assert.equal(c.baseUrl, 'https://acme.invoice-cloud.example.com');
    assert.equal(c.appSecret, 'acme-app-secret-value');
    assert.equal(c.tenantId, 'acme-kd');
    assert.equal(c.userType, 'UserName');
    assert.deepEqual(c.encoding, { kind: 'aes-gcm', password: 'AbCdEfGhIjKlMnOp' });
    assert.deepEqual(
      c.confirmPasswords,
      { [TAX_NO]: 'confirm-secret-value' },
      'the trailing newline is not part of it',
    );
    assert.equal(c.maxRequestsPerSecond, 10, "each worker's share: floor(20 / 2)");
    assert.deepEqual(c.quota, { tenantRequestsPerSecond: 20, fleetSize: 2 });
  });

  it('names the file, the tenant and the field when an environment variable or a file is missing', () => {
    write([acme()]);
    failsWith(
      () => loadTenants(file, { NODE_ENV: 'production' }),
      /tenants\.json: tenant "acme": appSecret: env var ACME_SECRET is not set/,
    );
    write([acme({ confirmPasswords: { [TAX_NO]: { file: 'secrets/absent' } } })]);
    failsWith(
      () => loadTenants(file, env),
      new RegExp(`tenant "acme": confirmPasswords\\.${TAX_NO}: cannot read the file secrets/absent: ENOENT`),
    );
  });

  it('refuses a secret written in the file, saying why', () => {
    write([acme({ appSecret: 'acme-app-secret-value' })]);
    assert.throws(
      () => readTenantsFile(file),
      (e: unknown) =>
        e instanceof TenantsFileError &&
        /tenants\[0\] \("acme"\)\.appSecret: a secret is never written in the tenants file/.test(e.message) &&
        /\{ "env": "VARIABLE" \}/.test(e.message) &&
        !e.message.includes('acme-app-secret-value'),
    );
    write([acme({ confirmPasswords: { [TAX_NO]: '1234567' } })]);
    failsWith(() => readTenantsFile(file), new RegExp(`confirmPasswords\\.${TAX_NO}: a secret is never written`));
    write([acme({ appSecret: { env: 'ACME SECRET' } })]);
    failsWith(() => readTenantsFile(file), /appSecret: must be \{ "env": "VARIABLE" \} or \{ "file": "path" \}/);
  });

  it('refuses unknown fields, duplicate ids and ids that are not slugs', () => {
    write([acme({ password: { env: 'X' } })]);
    failsWith(() => readTenantsFile(file), /tenants\[0\] \("acme"\).*password/);
    write([acme(), acme({ baseUrl: 'https://other.example.com' })]);
    failsWith(
      () => readTenantsFile(file),
      /tenants\[1\] \("acme"\)\.id: duplicate tenant id "acme" \(also tenants\[0\]\)/,
    );
    write([acme({ id: 'Acme Ltd' })]);
    failsWith(() => readTenantsFile(file), /tenants\[0\] \("Acme Ltd"\)\.id: tenant must be 1-32 lower-case/);
    writeFileSync(file, JSON.stringify({ tenants: [], extra: 1 }));
    failsWith(() => readTenantsFile(file), /extra/);
    writeFileSync(file, '{ "tenants": [');
    failsWith(() => readTenantsFile(file), /is not valid JSON/);
    failsWith(() => readTenantsFile(join(dir, 'absent.json')), /cannot read the tenants file .*absent\.json: ENOENT/);
  });

  it("applies the INVOICE_CLOUD_* rules per tenant, in the file's terms, without the process's own settings", () => {
    // The process's own tenant settings (the default tenant's) never fill in a file tenant's.
    const processEnv = { ...env, INVOICE_CLOUD_APP_ID: 'DEFAULTINV', INVOICE_CLOUD_USER: 'someone' };
    write([acme({ appId: undefined, user: undefined })]);
    failsWith(() => loadTenants(file, processEnv), /tenant "acme": Missing invoice-cloud settings .*set appId, user$/);
    write([acme({ baseUrl: 'http://acme.example.com' })]);
    failsWith(
      () => loadTenants(file, env),
      /tenant "acme": baseUrl=http:\/\/acme\.example\.com: .*must be reached over https/,
    );
    write([acme({ quota: { requestsPerSecond: 2, fleetSize: 3 } })]);
    failsWith(
      () => loadTenants(file, env),
      /tenant "acme": quota\.fleetSize=3 is more than quota\.requestsPerSecond=2/,
    );
    // A sandbox on loopback: the demo tenant's values fill in what is not given.
    write([{ id: 'sandbox-b', baseUrl: 'http://127.0.0.1:8791' }]);
    const [sandbox] = loadTenants(file, processEnv);
    assert.equal(sandbox!.invoiceCloud.sandboxMode, true);
    assert.equal(sandbox!.invoiceCloud.appId, DEMO_TENANT.appId);
    assert.equal(sandbox!.invoiceCloud.user, DEMO_TENANT.user);
  });

  it("a quota without a fleet size takes the workers' INVOICE_CLOUD_FLEET_SIZE", () => {
    write([acme({ quota: { requestsPerSecond: 12 } })]);
    assert.equal(loadTenants(file, { ...env, INVOICE_CLOUD_FLEET_SIZE: '3' })[0]!.invoiceCloud.maxRequestsPerSecond, 4);
    assert.equal(loadTenants(file, env)[0]!.invoiceCloud.maxRequestsPerSecond, 12, 'a fleet of one by default');
  });
});

describe('tenant task queues', () => {
  it("a tenant's bureau activities go to <main queue>.tenant.<id>; the default tenant keeps the workflow's queue", () => {
    assert.equal(tenantTaskQueue(undefined), undefined);
    assert.equal(tenantTaskQueue('acme'), `${TASK_QUEUE}.tenant.acme`);
    assert.equal(tenantTaskQueue('acme', 'other-queue'), 'other-queue.tenant.acme');
  });

  it("a month's tenant is checked with its input", () => {
    const base = { taxNo: TAX_NO, taxPeriod: TEST_PERIOD, approvers: [TEST_APPROVERS[0]!] };
    assert.equal(MonthlyDeductionInput.parse({ ...base, tenant: 'acme-2' }).tenant, 'acme-2');
    assert.equal(MonthlyDeductionInput.parse(base).tenant, undefined);
    for (const bad of ['Acme', '-acme', 'a'.repeat(33), '', 'acme.b']) {
      const parsed = MonthlyDeductionInput.safeParse({ ...base, tenant: bad });
      assert.equal(parsed.success, false, bad);
      assert.match(parsed.error!.issues[0]!.message, /tenant must be 1-32 lower-case/);
    }
  });
});

describe("a registry entry's tenant", () => {
  const entry = (more: Record<string, unknown>) => ({
    taxNo: TAX_NO,
    name: '测试有限公司',
    approvers: [TEST_APPROVERS[0]!],
    schedule: { dayOfMonth: 3, hour: 9 },
    ...more,
  });

  it("goes into the schedule's launcher input, and an entry without one starts months as before", () => {
    const [withTenant, without] = parseRegistry({
      taxpayers: [entry({ tenant: 'acme' }), entry({ taxNo: '91440300MA5G9GK78Y' })],
    }).taxpayers;
    const args = (e: typeof withTenant) => {
      const action = scheduleOptionsFor(e!).action;
      assert.equal(action.type, 'startWorkflow');
      return (action as { args: Record<string, unknown>[] }).args[0]!;
    };
    assert.equal(args(withTenant).tenant, 'acme');
    assert.equal('tenant' in args(without), false);
  });

  it('must be a tenant of the tenants file before `schedules apply` writes a schedule', () => {
    const registry = parseRegistry({
      taxpayers: [entry({ tenant: 'shenzhen-group' }), entry({ taxNo: '91440300MA5G9GK78Y', tenant: 'nobody' })],
    });
    const env = { INVOICE_CLOUD_TENANTS_FILE: 'config/tenants.example.json' };
    assert.throws(
      () => checkRegistryTenants(registry, 'taxpayers.json', env),
      (e: unknown) =>
        e instanceof TenantOptionError &&
        /taxpayers\.json: taxpayer 91440300MA5G9GK78Y's tenant nobody: unknown tenant.*"shenzhen-group", "shanghai-trading"/.test(
          e.message,
        ),
    );
    assert.throws(() => checkRegistryTenants(registry, 'taxpayers.json', {}), /no tenants file to find it in/);
    registry.taxpayers.pop();
    assert.doesNotThrow(() => checkRegistryTenants(registry, 'taxpayers.json', env));
  });

  it('is a tenant id, never settings', () => {
    assert.throws(
      () => parseRegistry({ taxpayers: [entry({ tenant: { baseUrl: 'https://x.example.com' } })] }),
      (e: unknown) => e instanceof RegistryError && /taxpayers\[0\] \(测试有限公司\)\.tenant/.test(e.message),
    );
  });
});
