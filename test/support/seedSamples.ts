/**
 * The seed's samples (Kingdee's integration guide), verbatim: request bodies with their
 * base64 `data`, and the replies the seed shows.
 */

export const SEED_APP_TOKEN_REQUEST = {
  appId: 'CASHINV',
  appSecuret: '12345678',
  tenantid: 'devbiz',
  accountId: '1534920374578620490',
  language: 'zh_CN',
};
export const SEED_APP_TOKEN_REPLY = {
  data: {
    app_token: '12324eroeutrekdfgfkdkkk',
    success: true,
    error_desc: '',
    expire_time: 1535675659434,
    error_code: '0',
  },
  state: 'success',
};
/** The seed says to replace apptoken with the one 1.01 returned. */
export const SEED_ACCESS_TOKEN_REQUEST = {
  user: '13825207590',
  apptoken: 'a3270799-b482-4697-931f-2fb68b56bdf2',
  tenantid: 'devbiz ',
  accountId: '1534920374578620490',
  usertype: 'Mobile',
};
export const SEED_ACCESS_TOKEN_REPLY = {
  data: {
    access_token: 'f035550a-f9e8-4cc6-a775-8a21462a9f8b',
    success: true,
    error_desc: '',
    expire_time: 1535680289307,
    error_code: '0',
  },
  state: 'success',
};

export interface SeedSample {
  section: string;
  request: { businessSystemCode: string; interfaceCode: string; requestId: string; data: string };
  reply: { success: boolean; status: boolean; errorCode: string; message: string; data?: string };
}

const req = (interfaceCode: string, data: string) => ({
  businessSystemCode: 'yhtest',
  interfaceCode,
  requestId: '1',
  data,
});
const ok = (data: string) => ({ data, message: '请求成功', errorCode: '0000', status: true, success: true });
const failed = (errorCode: string, message: string) => ({ message, errorCode, status: false, success: false });

export const SEED_SAMPLES: Record<string, SeedSample> = {
  taxLogin: {
    section: '4.02',
    request: {
      ...req('taxLogin', 'ewogICAgICAgICJ0YXhObyI6ICI5MTQ0MDMwMDU5MTg3MjEzM0IiCiB9'),
      requestId: '1624601109096',
    },
    reply: ok('eyJsb2dpblR5cGUiOiIxIn0='),
  },
  taxperiodQuery: {
    section: '4.04',
    request: req('taxperiodQuery', 'ewogICAgICAgICJ0YXhObyI6ICI5MTQ0MDMwMDc0NTE5NDc3ODIiCn0='),
    reply: failed('1130', '税号:914403007451947782,不在租户:5368720388 范围内'),
  },
  invoiceSelect: {
    section: '4.05',
    request: req(
      'invoiceSelect',
      'ewogICAgICAgICJ0YXhObyI6ICI5MTQ0MDMwME1BNUc5R0s3OFkiLAogICAgICAgICJiaWxsVHlwZSI6ICIwIiwKICAgICAgICAiYXV0aGVudGljYXRlRmxhZyI6IDAsCiAgICAgICAgImRlZHVjdGlvblB1cnBvc2UiOiAiMSIsCiAgICAgICAgImFzeW5jRmxhZyI6ICIxIiwKICAgICAgICAiaW52b2ljZXMiOiBbCiAgICAgICAgICAgIHsKICAgICAgICAgICAgICAgICJzYWxlck5hbWUiOiAiIiwKICAgICAgICAgICAgICAgICJzYWxlclRheE5vIjogIiIsCiAgICAgICAgICAgICAgICAiaW52b2ljZVR5cGUiOiAiNCwyNywyOCwyOSIsCiAgICAgICAgICAgICAgICAiaW52b2ljZUNvZGUiOiAiIiwKICAgICAgICAgICAgICAgICJpbnZvaWNlTm8iOiAiMjM0NDIwMDAwMDAxNjQyMTQzMzUiLAogICAgICAgICAgICAgICAgImV0YXhJbnZvaWNlTm8iOiAiIiwKICAgICAgICAgICAgICAgICJpbnZvaWNlRGF0ZSI6ICIyMDIzLTA4LTE2IiwKICAgICAgICAgICAgICAgICJpbnZvaWNlQW1vdW50IjogIjIzNS42NCIsCiAgICAgICAgICAgICAgICAiZWZmZWN0aXZlVGF4QW1vdW50IjogIjIuMzYiLAogICAgICAgICAgICAgICAgInRvdGFsVGF4QW1vdW50IjogIjIzOC4wMCIsCiAgICAgICAgICAgICAgICAibm90RGVkdWN0aWJsZVR5cGUiOiAiIgogICAgICAgICAgICB9CiAgICAgICAgXQogICAgfQ==',
    ),
    reply: ok('eyJhc3luY0ZsYWciOiIxIiwidGFza05vIjoiMzg5ZDg5MDdlYThlNDliZjhjZGNjODFiNjczMWU3NjYifQ=='),
  },
  invoiceSelectQuery: {
    section: '4.06',
    request: req(
      'invoiceSelectQuery',
      'ewogICAgICAgICJ0YXhObyI6ICI5MTQ0MDMwME1BNUc5R0s3OFkiLAogICAgICAgICJ0YXNrTm8iOiAiMzg5ZDg5MDdlYThlNDliZjhjZGNjODFiNjczMWU3NjYiLAogICAgICAgICJwYWdlTm8iOiAxLAogICAgICAgICJwYWdlU2l6ZSI6IDUwCiAgICB9Cgo=',
    ),
    reply: failed('6910', '异步任务处理中，请稍后再查询。[税号:91440300MA5G9GK78Y,没有开启软证书模式]'),
  },
  statisticQuery: {
    section: '4.07',
    request: req('statisticQuery', 'ewogICAgICAgICJ0YXhObyI6ICI5MTQ0MDMwME1BNUc5R0s3OFkiCiAgICB9Cgo='),
    reply: failed('1130', '税号:91440300MA5G9GK78Y,没有开启软证书模式'),
  },
  statisticCreate: {
    section: '4.08',
    request: req(
      'statisticCreate',
      'ewogICAgICAgICJ0YXhObyI6ICI5MTQ0MDMwME1BNUc5R0s3OFkiLAogICAgICAgICJvcGVyYXRlVHlwZSI6ICIxIiwKICAgICAgICAiYXN5bmNGbGFnIjogIjEiCiAgICB9Cg==',
    ),
    reply: ok('eyJhc3luY0ZsYWciOiIxIiwidGFza05vIjoiYjNjOGI4NGI4OTJhNDQyM2FlMDc0N2M4MWI2ZmQ4YjkifQ=='),
  },
  statisticCreateQuery: {
    section: '4.09',
    request: req(
      'statisticCreateQuery',
      'ewogICAgICAgICJ0YXhObyI6ICI5MTQ0MDMwME1BNUc5R0s3OFkiLAogICAgICAgICJ0YXNrTm8iOiAiYjNjOGI4NGI4OTJhNDQyM2FlMDc0N2M4MWI2ZmQ4YjkiCn0=',
    ),
    reply: failed('1130', '税号:91440300MA5G9GK78Y,没有开启软证书模式'),
  },
  statisticConfirm: {
    section: '4.10',
    request: req(
      'statisticConfirm',
      'ewogICAgICAgICJ0YXhObyI6ICI5MTQ0MDMwME1BNUc5R0s3OFkiLAogICAgICAgICJwYXNzd29yZCI6ICIxMjM0NTY3IiwKICAgICAgICAiYXN5bmNGbGFnIjogIjEiCn0=',
    ),
    reply: ok('eyJhc3luY0ZsYWciOiIxIiwidGFza05vIjoiZDE5MDJmMzA3MmRiNDQ0MWEzZDdkOTkwNzA5ZjhjZmIifQ=='),
  },
  confirmResultQuery: {
    section: '4.11',
    request: req(
      'statisticCreateQuery',
      'ewogICAgICAgICJ0YXhObyI6ICI5MTQ0MDMwME1BNUc5R0s3OFkiLAogICAgICAgICJ0YXNrTm8iOiAiZDE5MDJmMzA3MmRiNDQ0MWEzZDdkOTkwNzA5ZjhjZmIiCn0=',
    ),
    reply: failed('2002', '未查询到“生成统计表”或“撤销统计表”相关任务，请确认“请求任务号”或“接口类型”是否正确。'),
  },
  taxperiodChange: {
    section: '4.12',
    request: req(
      'taxperiodChange',
      'ewogICAgICAgICJ0YXhObyI6ICI5MTQ0MDMwME1BNUc5R0s3OFkiLAogICAgICAgICJ0YXhQZXJpb2QiOiAiMjAyNTExIiwKICAgICAgICAic3RhdHVzIjogMQp9',
    ),
    reply: failed('0201', '非新电子平台或者乐企通道，不支持变更属期。'),
  },
};
