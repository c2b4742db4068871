import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describeZodError } from './zodErrors.js';

/**
 * The protocol profile: every choice the public evidence leaves open, in one place, with the
 * best-evidence defaults (docs/assumptions.md gives the source and confidence of each). A tenant
 * whose cloud behaves differently gets a JSON file with only the settings that differ, named by
 * INVOICE_CLOUD_PROFILE; `npm run cli -- doctor` helps find out which.
 */

const Codes = z.array(z.string().min(1));
/** Codes and message patterns (regular expressions, matched against the reply's message). */
const Recogniser = z.object({ codes: Codes.default([]), patterns: z.array(z.string()).default([]) }).strict();
export type Recogniser = z.output<typeof Recogniser>;

export const ProtocolProfile = z
  .object({
    /** The wire interfaceCode of each step (a tenant may run other names). */
    interfaceCodes: z
      .object({
        taxLogin: z.string().default('taxLogin'),
        taxperiodQuery: z.string().default('taxperiodQuery'),
        invoiceSelect: z.string().default('invoiceSelect'),
        invoiceSelectQuery: z.string().default('invoiceSelectQuery'),
        statisticQuery: z.string().default('statisticQuery'),
        statisticCreate: z.string().default('statisticCreate'),
        statisticCreateQuery: z.string().default('statisticCreateQuery'),
        statisticConfirm: z.string().default('statisticConfirm'),
        taxperiodChange: z.string().default('taxperiodChange'),
        invoiceDown: z.string().default('invoiceDown'),
        invoiceDownQuery: z.string().default('invoiceDownQuery'),
      })
      .strict()
      .prefault({}),
    /** authenticateFlag of 4.05: the evidence reads 1 = select, 0 = cancel (docs/assumptions.md). */
    selectFlag: z
      .object({ select: z.enum(['0', '1']).default('1'), cancel: z.enum(['0', '1']).default('0') })
      .strict()
      .refine((f) => f.select !== f.cancel, 'selectFlag.select and selectFlag.cancel must differ')
      .prefault({}),
    /** What 4.05's totalTaxAmount carries: the tax amount, or the total including tax (价税合计). */
    totalTaxAmount: z.enum(['tax', 'total']).default('total'),
    /**
     * How a confirmation is recognised: the statistic object's createTjbbStatus becoming 05 (the
     * documented way), or a tenant's own confirm-result interface answering with the statistic object.
     */
    confirmation: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('statistic-status') }).strict(),
        z.object({ kind: z.literal('result-interface'), interfaceCode: z.string().min(1) }).strict(),
      ])
      .default({ kind: 'statistic-status' }),
    /** Envelope errorCodes that mean success. */
    successCodes: Codes.min(1).default(['0000', '0']),
    /** Replies that mean the access token expired or is missing: renew once and resend once. */
    tokenExpired: Recogniser.default({
      codes: [],
      patterns: ['access_token.*(过期|失效|无效|缺失)', 'token.*(expired|invalid)'],
    }),
    /** Replies that mean an asynchronous task is still running: ask again later. */
    stillProcessing: Recogniser.default({ codes: ['6910'], patterns: ['处理中'] }),
    /** Replies that mean confirmation is not open yet: wait, up to the deadline. */
    tooEarly: Recogniser.default({ codes: [], patterns: ['未到统计确认时间', '不允许确认', '不可确认'] }),
    /** Replies that mean the request quota is exhausted: wait and resend. */
    quotaExceeded: Recogniser.default({ codes: [], patterns: ['频繁', '限流', '超出.*限额'] }),
    /** Replies that mean a passing fault of the cloud: resend with backoff. */
    transient: Recogniser.default({ codes: [], patterns: ['系统内部错误', '繁忙', '稍后重试', '稍后再试', '超时'] }),
    /**
     * Conditions that no wait will cure, checked before everything else: e.g. the seed's 6910
     * "...[税号:…,没有开启软证书模式]" is a taxpayer without soft-certificate mode, not a pending task.
     */
    permanent: z.array(z.object({ pattern: z.string().min(1), meaning: z.string().min(1) }).strict()).default([
      {
        pattern: '没有开启软证书模式',
        meaning: 'soft-certificate mode (软证书模式) is not enabled for this taxpayer in the invoice cloud',
      },
    ]),
    /** Per-invoice selectResult values that mean "send this invoice again in a later round". */
    selectRetry: Recogniser.default({ codes: [], patterns: ['税局登录', '勾选中', '处理中'] }),
    /**
     * How long a generate, revoke or confirm request that got no answer may take to show at the
     * bureau: until then a retry that finds no trace of it waits instead of sending it again
     * (docs/protocol.md, "Writes read before they send"). Lower it once the tenant is seen to show a
     * processing request at once (21, isAllowQxTj / isAllowQrtj false).
     */
    writeSettleMs: z.number().int().min(0).max(86_400_000).default(600_000),
    /** How requestIds look: 16 digits derived from the operation (a resend reuses it), or 13-digit ms time + 3 random digits. */
    requestIdStyle: z.enum(['stable-digits', 'timestamp']).default('stable-digits'),
    /** A path prefix before the documented paths, e.g. "/ierp" on private deployments. */
    pathPrefix: z
      .string()
      .regex(/^(\/[A-Za-z0-9._~-]+)*$/, 'pathPrefix must be empty or like "/ierp"')
      .default(''),
    /** How the envelope's data is encoded; the AES password stays in INVOICE_CLOUD_DATA_PASSWORD. */
    encoding: z.enum(['base64', 'aes-gcm']).default('base64'),
    /** 发票云 invoiceType -> the bureau's statistic category (tjInfoArr rows); others count in the total only. */
    statisticCategories: z
      .record(z.string().regex(/^\d+$/), z.string().regex(/^\d{2}$/))
      .default({ '2': '01', '4': '01', '27': '01', '12': '03', '83': '03', '15': '14', '21': '17' }),
  })
  .strict();
export type ProtocolProfile = z.output<typeof ProtocolProfile>;
export type ProtocolProfileInput = z.input<typeof ProtocolProfile>;

export const DEFAULT_PROFILE: ProtocolProfile = ProtocolProfile.parse({});

export const PROFILE_VARIABLE = 'INVOICE_CLOUD_PROFILE';

export class ProfileError extends Error {
  override name = 'ProfileError';
}

/** A profile from plain settings over the defaults; the error names the source and the field. */
export function parseProfile(raw: unknown, source: string): ProtocolProfile {
  const parsed = ProtocolProfile.safeParse(raw);
  if (!parsed.success) throw new ProfileError(`${source}: ${describeZodError(parsed.error)}`);
  for (const recogniser of [
    parsed.data.tokenExpired,
    parsed.data.stillProcessing,
    parsed.data.tooEarly,
    parsed.data.quotaExceeded,
    parsed.data.transient,
    parsed.data.selectRetry,
  ]) {
    for (const pattern of recogniser.patterns) checkPattern(pattern, source);
  }
  for (const { pattern } of parsed.data.permanent) checkPattern(pattern, source);
  return parsed.data;
}

function checkPattern(pattern: string, source: string): void {
  try {
    new RegExp(pattern);
  } catch (error) {
    throw new ProfileError(
      `${source}: pattern ${JSON.stringify(pattern)} is not a regular expression (${(error as Error).message})`,
    );
  }
}

/** The profile named by INVOICE_CLOUD_PROFILE (a JSON file), or the defaults. */
export function profileFromEnv(env: NodeJS.ProcessEnv = process.env): ProtocolProfile {
  const file = env[PROFILE_VARIABLE];
  if (!file) return DEFAULT_PROFILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ProfileError(
      `${PROFILE_VARIABLE}=${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ProfileError(`${PROFILE_VARIABLE}=${file}: not JSON (${(error as Error).message})`);
  }
  return parseProfile(raw, `${PROFILE_VARIABLE}=${file}`);
}

/** Whether a reply (errorCode, message) is recognised by codes or patterns. */
export function recognises(recogniser: Recogniser, code: string, message: string): boolean {
  return recogniser.codes.includes(code) || recogniser.patterns.some((p) => new RegExp(p, 'i').test(message));
}

/** The permanent condition a reply's message names, if any. */
export function permanentCondition(profile: ProtocolProfile, message: string): string | undefined {
  return profile.permanent.find((p) => new RegExp(p.pattern).test(message))?.meaning;
}
