import { z } from 'zod';

/** 1.01 获取app_token. The seed spells the secret `appSecuret`; both spellings are accepted. */
export const AppTokenRequest = z
  .object({
    appId: z.string().min(1),
    appSecret: z.string().min(1).optional(),
    appSecuret: z.string().min(1).optional(),
    tenantid: z.string().min(1),
    accountId: z.string().min(1),
    language: z.string().optional(),
  })
  .refine((r) => r.appSecret !== undefined || r.appSecuret !== undefined, {
    message: 'appSecret (or appSecuret) is required',
    path: ['appSecret'],
  });
export type AppTokenRequest = z.infer<typeof AppTokenRequest>;

/** 1.02 获取access_token. The seed's sample sends tenantid "devbiz " (trailing space): trimmed. */
export const AccessTokenRequest = z.object({
  user: z.string().min(1),
  apptoken: z.string().min(1),
  tenantid: z.string().transform((s) => s.trim()),
  accountId: z.string().min(1),
  usertype: z.enum(['Mobile', 'UserName']),
});
export type AccessTokenRequest = z.infer<typeof AccessTokenRequest>;

const authReplyStatus = {
  success: z.boolean(),
  error_desc: z.string(),
  expire_time: z.number().optional(),
  error_code: z.string(),
};

export const AppTokenReply = z.object({
  data: z.object({ app_token: z.string().optional(), ...authReplyStatus }),
  state: z.string(),
});
export type AppTokenReply = z.infer<typeof AppTokenReply>;
export const AccessTokenReply = z.object({
  data: z.object({ access_token: z.string().optional(), ...authReplyStatus }),
  state: z.string(),
});
export type AccessTokenReply = z.infer<typeof AccessTokenReply>;

/** Auth error codes (assumption: the seed shows the two failures only as screenshots). */
export const AuthErrorCode = {
  WrongAccountId: '1004',
  WrongAppCredentials: '1005',
  WrongUser: '1006',
  InvalidAppToken: '1007',
  InvalidRequest: '1001',
} as const;

/** The business envelope every 4.xx call is sent in. `data` is the encoded payload. */
export const BusinessRequest = z.object({
  businessSystemCode: z.string().min(1),
  interfaceCode: z.string().min(1),
  requestId: z.string().min(1),
  data: z.string(),
});
export type BusinessRequest = z.infer<typeof BusinessRequest>;

/** The reply envelope, read tolerantly: `success` may be true or "true"; unknown fields are kept. */
export const BusinessReply = z.looseObject({
  success: z.union([z.boolean(), z.enum(['true', 'false'])]).transform((v) => v === true || v === 'true'),
  status: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(),
  errorCode: z.union([z.string(), z.number()]).transform((v) => String(v)),
  message: z.string().default(''),
  data: z.string().optional(),
});
export type BusinessReply = z.infer<typeof BusinessReply>;

/** Default path of the business gateway (not in the seed; configurable). */
export const DEFAULT_GATEWAY_PATH = '/kapi/app/rim/deduction';
export const APP_TOKEN_PATH = '/api/getAppToken.do';
export const ACCESS_TOKEN_PATH = '/api/login.do';
