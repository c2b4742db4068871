import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  ACCESS_TOKEN_PATH,
  AccessTokenRequest,
  APP_TOKEN_PATH,
  AppTokenRequest,
  AuthErrorCode,
} from '../../protocol/envelope.js';
import { describeZodError } from '../../protocol/interfaces.js';
import type { Settings } from '../settings.js';
import type { Store } from '../store.js';

/** 1.01 / 1.02: app_token and access_token, in the seed's auth envelope. */

type TokenField = 'app_token' | 'access_token';

const ok = (field: TokenField, token: string, expireTime: number) => ({
  data: { [field]: token, success: true, error_desc: '', expire_time: expireTime, error_code: '0' },
  state: 'success',
});
const fail = (code: string, desc: string) => ({
  data: { success: false, error_desc: desc, error_code: code },
  state: 'fail',
});

const WRONG_ACCOUNT = '数据中心accountId参数错误，请检查accountId是否为数据中心分配的正确账号ID';
const WRONG_APP = '应用ID或密钥不正确，请检查第三方应用配置中的appId和appSecret';

export async function authPlugin(app: FastifyInstance, deps: { store: Store; settings: Settings }): Promise<void> {
  const { store, settings } = deps;

  app.post(APP_TOKEN_PATH, async (request) => {
    const parsed = AppTokenRequest.safeParse(request.body);
    if (!parsed.success) return fail(AuthErrorCode.InvalidRequest, `请求参数错误: ${describeZodError(parsed.error)}`);
    const body = parsed.data;
    const tenant = store.tenants.getByAppId(body.appId);
    const secret = body.appSecret ?? body.appSecuret;
    if (!tenant || tenant.appSecret !== secret) return fail(AuthErrorCode.WrongAppCredentials, WRONG_APP);
    if (tenant.accountId !== body.accountId || tenant.tenantId !== body.tenantid.trim()) {
      return fail(AuthErrorCode.WrongAccountId, WRONG_ACCOUNT);
    }
    const token = randomUUID();
    const expireTime = Date.now() + settings.appTokenTtlMs();
    store.tenants.saveToken(token, 'app', tenant.tenantId, expireTime);
    return ok('app_token', token, expireTime);
  });

  app.post(ACCESS_TOKEN_PATH, async (request) => {
    const parsed = AccessTokenRequest.safeParse(request.body);
    if (!parsed.success) return fail(AuthErrorCode.InvalidRequest, `请求参数错误: ${describeZodError(parsed.error)}`);
    const body = parsed.data; // tenantid already trimmed: the seed's 1.02 sample sends "devbiz ".
    const appToken = store.tenants.getToken(body.apptoken, 'app');
    if (!appToken || appToken.expiresAt <= Date.now()) {
      return fail(AuthErrorCode.InvalidAppToken, 'app_token无效或已过期，请重新获取app_token');
    }
    const tenant = store.tenants.get(appToken.tenantId);
    if (!tenant || tenant.tenantId !== body.tenantid || tenant.accountId !== body.accountId) {
      return fail(AuthErrorCode.WrongAccountId, WRONG_ACCOUNT);
    }
    if (tenant.user !== body.user || tenant.userType !== body.usertype) {
      return fail(AuthErrorCode.WrongUser, `用户${body.user}不存在或用户类型${body.usertype}不正确`);
    }
    const token = randomUUID();
    const expireTime = Date.now() + settings.accessTokenTtlMs();
    store.tenants.saveToken(token, 'access', tenant.tenantId, expireTime);
    return ok('access_token', token, expireTime);
  });
}
