import { z } from 'zod';
import {
  ACCESS_TOKEN_PATH,
  AccessTokenReply,
  AccessTokenRequest,
  APP_TOKEN_PATH,
  AppTokenReply,
  AppTokenRequest,
  BusinessReply,
  BusinessRequest,
} from '../../protocol/envelope.js';
import { interfaces } from '../../protocol/interfaces.js';
import { ADMIN_ROUTES } from './routes.js';

/**
 * The sandbox's OpenAPI 3.1 document, generated from the zod schemas the sandbox validates with
 * (protocol/ for the Kingdee part, simulator/admin and simulator/faults for the admin part), so
 * the document cannot drift from the validation.
 */

type JsonSchema = Record<string, unknown>;
const schemaOf = (s: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};
const json = (schema: JsonSchema) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** `/admin/taxpayers/:taxNo` → `/admin/taxpayers/{taxNo}` */
export const openApiPath = (fastifyPath: string) => fastifyPath.replace(/:(\w+)/g, '{$1}');

export function buildOpenApiDocument(opts: { gatewayPath: string }): JsonSchema {
  const schemas: Record<string, JsonSchema> = {
    AppTokenRequest: schemaOf(AppTokenRequest, 'input'),
    AppTokenReply: schemaOf(AppTokenReply, 'output'),
    AccessTokenRequest: schemaOf(AccessTokenRequest, 'input'),
    AccessTokenReply: schemaOf(AccessTokenReply, 'output'),
    BusinessRequest: schemaOf(BusinessRequest, 'input'),
    BusinessReply: schemaOf(BusinessReply, 'output'),
  };
  const interfaceIndex: Record<string, JsonSchema> = {};
  for (const [code, d] of Object.entries(interfaces)) {
    schemas[`${code}.data`] = schemaOf(d.request as z.ZodType, 'input');
    schemas[`${code}.reply`] = schemaOf(d.reply as z.ZodType, 'output');
    interfaceIndex[code] = {
      section: d.section,
      title: d.title,
      request: ref(`${code}.data`),
      reply: ref(`${code}.reply`),
    };
  }

  const paths: Record<string, Record<string, JsonSchema>> = {
    [APP_TOKEN_PATH]: {
      post: {
        tags: ['kingdee'],
        summary: "1.01 获取app_token (appSecret or the seed's appSecuret)",
        requestBody: { required: true, ...json(ref('AppTokenRequest')) },
        responses: { 200: { description: 'Auth envelope', ...json(ref('AppTokenReply')) } },
      },
    },
    [ACCESS_TOKEN_PATH]: {
      post: {
        tags: ['kingdee'],
        summary: '1.02 获取access_token',
        requestBody: { required: true, ...json(ref('AccessTokenRequest')) },
        responses: { 200: { description: 'Auth envelope', ...json(ref('AccessTokenReply')) } },
      },
    },
    [opts.gatewayPath]: {
      post: {
        tags: ['kingdee'],
        summary: 'Business gateway: every 4.xx interface, chosen by interfaceCode',
        description:
          '`data` is base64 of the JSON of `<interfaceCode>.data`, or (tenant setting) base64 of a 12-byte IV, ' +
          'the AES-128-GCM ciphertext and its tag, key = first 16 bytes of SHA1(SHA1(password)). A successful ' +
          "reply's `data` encodes `<interfaceCode>.reply` the same way. See x-interfaces.",
        parameters: [{ name: 'access_token', in: 'query', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, ...json(ref('BusinessRequest')) },
        responses: {
          200: { description: 'Business envelope (errorCode 0000 = ok)', ...json(ref('BusinessReply')) },
          '5XX': { description: 'Only when a fault is injected' },
        },
      },
    },
  };

  for (const route of ADMIN_ROUTES) {
    const path = openApiPath(route.path);
    const params = [...route.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = route.query ? schemaOf(route.query, 'input') : undefined;
    const queryParams = Object.entries((query?.properties ?? {}) as Record<string, JsonSchema>).map(([name, s]) => ({
      name,
      in: 'query',
      required: ((query?.required ?? []) as string[]).includes(name),
      schema: s,
    }));
    paths[path] ??= {};
    paths[path][route.method] = {
      tags: [route.path.startsWith('/admin') ? 'admin' : 'sandbox'],
      summary: route.summary,
      ...(params.length + queryParams.length ? { parameters: [...params, ...queryParams] } : {}),
      ...(route.body
        ? { requestBody: { required: true, ...json({ ...schemaOf(route.body, 'input'), examples: [route.example] }) } }
        : {}),
      responses: {
        200: {
          description: route.refusal
            ? `The platform's reply: ${route.refusal} 0 when sent, non-zero when refused (bad signature, body, size)`
            : 'OK',
        },
        ...(route.refusal
          ? {}
          : route.body || route.query
            ? { 400: { description: '{error, field, message} naming the bad field' } }
            : {}),
      },
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Invoice-cloud + tax-bureau sandbox',
      version: '1',
      description:
        'Kingdee Invoice Cloud (金蝶发票云) 抵扣勾选 API as the seed describes it, plus the sandbox admin API. ' +
        'Assumptions are listed in docs/assumptions.md.',
    },
    tags: [
      { name: 'kingdee', description: 'The invoice-cloud API (seed)' },
      { name: 'admin', description: 'Sandbox administration, faults, ledger and invariants' },
    ],
    paths,
    components: { schemas },
    'x-interfaces': interfaceIndex,
  };
}
