import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { decodeData } from '../protocol/codec.js';
import { interfaces, isInterfaceCode } from '../protocol/interfaces.js';
import { openApiPath } from '../simulator/openapi/document.js';
import { ADMIN_ROUTES } from '../simulator/openapi/routes.js';
import { SEED_ACCESS_TOKEN_REQUEST, SEED_APP_TOKEN_REQUEST, SEED_SAMPLES } from './support/seedSamples.js';
import { http, KINGDEE, TestSandbox } from './support/sandbox.js';

/** The OpenAPI document the sandbox serves is true to the sandbox. */

type Json = Record<string, unknown>;

describe('sandbox: OpenAPI document', () => {
  let t: TestSandbox;
  let doc: { paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, Json> } } & Json;

  before(async () => {
    t = await TestSandbox.start();
    await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 0 });
    doc = (await t.admin.openApi()) as typeof doc;
  });
  after(() => t.close());

  it('is served at /openapi.json as OpenAPI 3.1', () => {
    assert.equal(doc.openapi, '3.1.0');
  });

  it('documents every registered route, and every documented route exists', () => {
    const registered = t.sandbox.routes.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`).sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`))
      .sort();
    assert.deepEqual(documented, registered);
  });

  it('describes the request and reply data of every interface', () => {
    const index = doc['x-interfaces'] as Record<string, Json>;
    assert.deepEqual(Object.keys(index).sort(), Object.keys(interfaces).sort());
    for (const code of Object.keys(interfaces)) {
      assert.ok(doc.components.schemas[`${code}.data`], `${code}.data`);
      assert.ok(doc.components.schemas[`${code}.reply`], `${code}.reply`);
    }
  });

  it('every seed request sample fits the documented envelope and data schemas', () => {
    const fits = (value: Json, schema: Json, where: string) => {
      const properties = schema.properties as Record<string, unknown>;
      for (const key of Object.keys(value)) assert.ok(key in properties, `${where}: ${key} is documented`);
      for (const key of (schema.required ?? []) as string[]) assert.ok(key in value, `${where}: ${key} is sent`);
    };
    fits(SEED_APP_TOKEN_REQUEST, doc.components.schemas.AppTokenRequest!, 'getAppToken');
    fits(SEED_ACCESS_TOKEN_REQUEST, doc.components.schemas.AccessTokenRequest!, 'login');
    for (const [name, sample] of Object.entries(SEED_SAMPLES)) {
      fits(sample.request, doc.components.schemas.BusinessRequest!, `${name} envelope`);
      if (!isInterfaceCode(sample.request.interfaceCode)) continue;
      const data = decodeData(sample.request.data, { kind: 'base64' }) as Json;
      fits(data, doc.components.schemas[`${sample.request.interfaceCode}.data`]!, `${name} data`);
    }
  });

  it('every documented admin body example is accepted, and an invalid body gets 400 naming a field', async () => {
    for (const route of ADMIN_ROUTES.filter((r) => r.method === 'post')) {
      const url = `${t.url}${route.exampleUrl ?? route.path.replace(':taxNo', KINGDEE)}`;
      const documented = doc.paths[openApiPath(route.path)]!.post!;
      assert.ok(route.body && documented.requestBody, `${route.path} documents its body`);
      const res = await http.post(url, route.example);
      assert.equal(res.status, 200, `${route.path} accepts its example: ${JSON.stringify(res.data)}`);
      if (route.refusal) assert.equal(res.data[route.refusal], 0, `${route.path} takes its example`);
      const bad = await http.post(url, {
        ...(route.example as Json),
        unknownShape: true,
        ...badValueFor(route.example),
      });
      if (route.refusal) {
        // A chat platform answers 200 with a non-zero code and says what was wrong.
        assert.notEqual(bad.data[route.refusal], 0, `${route.path} refuses a wrong type`);
        continue;
      }
      assert.equal(bad.status, 400, `${route.path} refuses a wrong type`);
      assert.equal(typeof bad.data.field, 'string', `${route.path} names the field`);
    }
  });
});

/** The example with its first field given a value of the wrong type. */
function badValueFor(example: unknown): Json {
  const [first] = Object.keys(example as Json);
  return first ? { [first]: { wrong: 'type' } } : {};
}
