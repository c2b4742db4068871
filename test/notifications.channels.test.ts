import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import axios from 'axios';
import { monthUrl } from '../activities/approvalNotice.js';
import type { NoticeKind, NoticeRequest } from '../protocol/notice.js';
import type { ChannelEntry } from '../activities/notices/channelConfig.js';
import { createNotificationActivities, notificationConfigFromEnv } from '../activities/notifications.js';
import { NotificationFailureType } from '../protocol/failureTypes.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox } from '../simulator/server.js';
import { TEST_WINDOW } from './support/calendar.js';
import { type LocalSmtp, startLocalSmtp } from './support/smtpServer.js';

const { period: PERIOD } = TEST_WINDOW;
const TAX_NO = '91440300591872133B';
const INBOX_URL = 'https://inbox.example.test/vat/';
const MONTH_URL = `https://inbox.example.test/vat/months/${TAX_NO}/${PERIOD}`;
const ALL_KINDS: NoticeKind[] = ['approval-needed', 'reminder', 'deadline-missed', 'confirmed', 'failed'];
const HEADINGS: Record<NoticeKind, [string, string]> = {
  'approval-needed': ['待审批', 'Approval needed'],
  reminder: ['审批提醒', 'Reminder'],
  'deadline-missed': ['审批已逾期', 'Approval deadline missed'],
  confirmed: ['统计表已确认', 'Statistic confirmed'],
  failed: ['需要处理', 'Failed, needs attention'],
};

function request(channel: string, kind: NoticeKind, extra: Partial<NoticeRequest> = {}): NoticeRequest {
  return {
    channel,
    kind,
    taxNo: TAX_NO,
    taxPeriod: PERIOD,
    approvalDeadline: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    deductionDeadline: TEST_WINDOW.deductionDeadline,
    statistic: { digest: 'd1', deductibleCount: 12, deductibleAmount: '10000.00', deductibleTax: '1300.00' },
    ...(kind === 'reminder' ? { hoursBeforeDeadline: 48 } : {}),
    ...(kind === 'confirmed' ? { decidedBy: '王会计' } : {}),
    ...(kind === 'failed' ? { reason: '税局拒绝确认 the bureau refused the confirmation (code 1001)' } : {}),
    ...extra,
  };
}

/** Runs the activity as a worker would; resolves to the failure it threw, if any. */
async function send(
  channels: Record<string, ChannelEntry>,
  req: NoticeRequest,
  now?: () => number,
): Promise<ApplicationFailure | undefined> {
  const activities = createNotificationActivities({ channels, inboxUrl: INBOX_URL }, axios.create(), { now });
  const env = new MockActivityEnvironment({
    workflowExecution: { workflowId: `deduction-${TAX_NO}-${PERIOD}`, runId: 'r1' },
  });
  try {
    await env.run(activities.notifyApprovers, req);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `an ApplicationFailure: ${String(err)}`);
    return err;
  }
}

function assertBilingual(text: string, kind: NoticeKind) {
  const [zh, en] = HEADINGS[kind];
  assert.ok(text.includes(zh) && text.includes(en), `${kind}: "${zh}" and "${en}" in ${text}`);
  assert.ok(text.indexOf(zh) < text.indexOf(en), `${kind}: Chinese first`);
  assert.ok(text.includes(`纳税人 Taxpayer ${TAX_NO}`), `${kind}: the taxpayer`);
}

describe('notification channels by kind: configuration', () => {
  it('reads NOTIFY_CHANNELS beside the webhooks of before, which keep working unchanged', () => {
    const config = notificationConfigFromEnv({
      NOTIFY_WEBHOOK_URL: 'https://hooks.example.test/a?token=x',
      NOTIFY_CHANNELS: JSON.stringify({
        wecom: { kind: 'wecom', url: 'https://qyapi.example.test/cgi-bin/webhook/send?key=k' },
        ding: { kind: 'dingtalk', url: 'https://oapi.example.test/robot/send?access_token=t', secret: 'SECx' },
        lark: { kind: 'feishu', url: 'https://open.example.test/open-apis/bot/v2/hook/h' },
        mail: { kind: 'email', host: 'smtp.example.test', from: 'vat@example.test', to: ['finance@example.test'] },
      }),
    });
    assert.equal(config.channels.default, 'https://hooks.example.test/a?token=x');
    assert.deepEqual(config.channels.ding, {
      kind: 'dingtalk',
      url: 'https://oapi.example.test/robot/send?access_token=t',
      secret: 'SECx',
    });
    assert.deepEqual(config.channels.mail, {
      kind: 'email',
      host: 'smtp.example.test',
      port: 587,
      secure: false,
      requireTls: false,
      from: 'vat@example.test',
      to: ['finance@example.test'],
    });
  });

  it('reads the same JSON from NOTIFY_CHANNELS_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'channels-'));
    try {
      const file = join(dir, 'channels.json');
      writeFileSync(file, JSON.stringify({ lark: { kind: 'feishu', url: 'https://x.test/h', secret: 's' } }));
      assert.equal(notificationConfigFromEnv({ NOTIFY_CHANNELS_FILE: file }).channels.lark !== undefined, true);
      assert.throws(
        () => notificationConfigFromEnv({ NOTIFY_CHANNELS_FILE: join(dir, 'missing.json') }),
        /^Error: NOTIFY_CHANNELS_FILE: cannot read the file \(ENOENT\)$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad channels naming the variable and the field, never echoing a secret', () => {
    const secret = 'SEC-super-secret-value';
    const cases: [Record<string, string>, RegExp][] = [
      [
        { NOTIFY_CHANNELS: JSON.stringify({ d: { kind: 'dingtalk', url: `ftp://${secret}` } }) },
        /^NOTIFY_CHANNELS\.d\.url: must be an http\(s\) URL$/,
      ],
      [
        { NOTIFY_CHANNELS: JSON.stringify({ d: { kind: 'slack', url: 'https://x.test' } }) },
        /^NOTIFY_CHANNELS\.d\.kind: /,
      ],
      [
        {
          NOTIFY_CHANNELS: JSON.stringify({ d: { kind: 'feishu', url: 'https://x.test', secret: secret.repeat(30) } }),
        },
        /^NOTIFY_CHANNELS\.d\.secret: must be at most 512 characters$/,
      ],
      [
        { NOTIFY_CHANNELS: JSON.stringify({ m: { kind: 'email', host: 'h', from: 'a@b.c', to: [secret] } }) },
        /^NOTIFY_CHANNELS\.m\.to\.0: must be an e-mail address$/,
      ],
      [
        {
          NOTIFY_CHANNELS: JSON.stringify({
            m: { kind: 'email', host: 'h', from: 'a@b.c', to: ['x@y.test'], password: secret },
          }),
        },
        /^NOTIFY_CHANNELS\.m\.user: a password needs a user$/,
      ],
      [{ NOTIFY_CHANNELS: `{"d": "${secret}"` }, /^NOTIFY_CHANNELS: must be a JSON object/],
      [
        { NOTIFY_CHANNELS: JSON.stringify({ 'has space': { kind: 'wecom', url: 'https://x.test' } }) },
        /^NOTIFY_CHANNELS\.has space: /,
      ],
      [
        {
          NOTIFY_WEBHOOK_URL: 'https://x.test',
          NOTIFY_CHANNELS: JSON.stringify({ default: { kind: 'wecom', url: 'https://y.test' } }),
        },
        /^NOTIFY_CHANNELS\.default: channel "default" is also set/,
      ],
      [
        { NOTIFY_CHANNELS: '{}', NOTIFY_CHANNELS_FILE: '/x' },
        /^NOTIFY_CHANNELS and NOTIFY_CHANNELS_FILE: set one, not both$/,
      ],
    ];
    for (const [env, expected] of cases) {
      assert.throws(
        () => notificationConfigFromEnv(env),
        (err: Error) => {
          assert.match(err.message, expected);
          assert.ok(!err.message.includes(secret), `no secret in: ${err.message}`);
          return true;
        },
      );
    }
  });
});

describe('notification channels by kind, against the sandbox robots and a local SMTP server', function () {
  this.timeout(60_000);
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let admin: SandboxAdmin;

  before(async () => {
    sandbox = await startSandbox({ port: 0, dbFile: ':memory:' });
    admin = new SandboxAdmin(sandbox.url);
  });
  after(async () => sandbox?.close());

  describe('WeCom group robot', () => {
    it('sends every kind as markdown the robot accepts, bilingual, linking the month', async () => {
      const channels = { team: { kind: 'wecom', url: admin.robotUrl('wecom', 'wecom-key-1') } } as const;
      for (const kind of ALL_KINDS) assert.equal(await send(channels, request('team', kind)), undefined, kind);
      const got = await admin.robotMessages({ platform: 'wecom', token: 'wecom-key-1' });
      assert.equal(got.length, ALL_KINDS.length);
      got.forEach((m, i) => {
        const body = m.body as { msgtype: string; markdown: { content: string } };
        assert.equal(body.msgtype, 'markdown');
        assertBilingual(body.markdown.content, ALL_KINDS[i]!);
        assert.ok(body.markdown.content.includes(`(${MONTH_URL})`), 'a markdown link to the month');
      });
      assert.match((got[3]!.body as { markdown: { content: string } }).markdown.content, /approved by 王会计/);
      assert.match((got[4]!.body as { markdown: { content: string } }).markdown.content, /code 1001/);
    });

    it('keeps a long notice within the 4096-byte markdown limit, which the robot enforces', async () => {
      const channels = { team: { kind: 'wecom', url: admin.robotUrl('wecom', 'wecom-key-2') } } as const;
      const reason = '税局暂时无法处理请求，请稍后重试。'.repeat(55).slice(0, 1000);
      assert.equal(await send(channels, request('team', 'failed', { reason })), undefined);
      const [m] = await admin.robotMessages({ platform: 'wecom', token: 'wecom-key-2' });
      const content = (m!.body as { markdown: { content: string } }).markdown.content;
      assert.ok(Buffer.byteLength(content) <= 4096, `${Buffer.byteLength(content)} bytes`);
      assert.ok(content.endsWith(`(${MONTH_URL})`), 'the link survives the cut');
      // The receiver itself refuses what is too long (so the assertion above can fail).
      const reply = await axios.post(admin.robotUrl('wecom', 'wecom-key-2'), {
        msgtype: 'markdown',
        markdown: { content: '长'.repeat(1400) },
      });
      assert.deepEqual(reply.data, { errcode: 40058, errmsg: 'markdown.content exceed max length 4096' });
    });

    it('reports a refusal (no key) as a rejected notice without naming the URL', async () => {
      const url = admin.robotUrl('wecom', 'x').replace('?key=x', '');
      const failure = await send({ team: { kind: 'wecom', url } }, request('team', 'approval-needed'));
      assert.equal(failure?.type, NotificationFailureType.Rejected);
      assert.equal(failure?.nonRetryable, true);
      assert.match(failure!.message, /channel "team" \(wecom\) refused the notice: code 93000/);
      assert.ok(!failure!.message.includes(sandbox.url), 'no URL in the failure');
    });
  });

  describe('DingTalk custom robot with signing (加签)', () => {
    const token = 'ding-token-1';
    const secret = 'SEC0123456789abcdef';
    before(() => admin.setRobotSecret('dingtalk', token, secret));

    it('sends every kind as signed markdown that the robot verifies', async () => {
      const channels = { ding: { kind: 'dingtalk', url: admin.robotUrl('dingtalk', token), secret } } as const;
      for (const kind of ALL_KINDS) assert.equal(await send(channels, request('ding', kind)), undefined, kind);
      const got = await admin.robotMessages({ platform: 'dingtalk', token });
      assert.equal(got.length, ALL_KINDS.length);
      got.forEach((m, i) => {
        assert.equal(m.signed, true);
        const body = m.body as { msgtype: string; markdown: { title: string; text: string } };
        assert.equal(body.msgtype, 'markdown');
        assertBilingual(body.markdown.text, ALL_KINDS[i]!);
        assert.ok(body.markdown.title.includes(HEADINGS[ALL_KINDS[i]!][0]), 'the title names the kind');
        assert.ok(body.markdown.text.includes(`(${MONTH_URL})`));
      });
    });

    it('is refused with a wrong secret, a stale timestamp, or no signature; nothing is posted to the group', async () => {
      const url = admin.robotUrl('dingtalk', token);
      const wrong = await send({ ding: { kind: 'dingtalk', url, secret: 'SECwrong' } }, request('ding', 'reminder'));
      assert.equal(wrong?.type, NotificationFailureType.Rejected);
      assert.match(wrong!.message, /code 310000 sign not match/);
      assert.ok(!wrong!.message.includes('SECwrong') && !wrong!.message.includes(token), 'no secret, no token');

      const stale = await send(
        { ding: { kind: 'dingtalk', url, secret } },
        request('ding', 'reminder'),
        () => Date.now() - 2 * 3_600_000,
      );
      assert.match(stale!.message, /code 310000 invalid timestamp/);

      const unsigned = await send({ ding: { kind: 'dingtalk', url } }, request('ding', 'reminder'));
      assert.match(unsigned!.message, /code 310000/);
      assert.equal((await admin.robotMessages({ platform: 'dingtalk', token })).length, ALL_KINDS.length);
    });
  });

  describe('Feishu / Lark custom bot with signature check (签名校验)', () => {
    const token = 'feishu-hook-1';
    const secret = 'feishu-signing-secret';
    before(() => admin.setRobotSecret('feishu', token, secret));

    it('sends every kind as a signed interactive card that the bot verifies, with a button to the month', async () => {
      const channels = { lark: { kind: 'feishu', url: admin.robotUrl('feishu', token), secret } } as const;
      for (const kind of ALL_KINDS) assert.equal(await send(channels, request('lark', kind)), undefined, kind);
      const got = await admin.robotMessages({ platform: 'feishu', token });
      assert.equal(got.length, ALL_KINDS.length);
      got.forEach((m, i) => {
        assert.equal(m.signed, true);
        const body = m.body as {
          msg_type: string;
          card: {
            header: { title: { content: string } };
            elements: { tag: string; text?: { content: string }; actions?: { url: string }[] }[];
          };
        };
        assert.equal(body.msg_type, 'interactive');
        const text = `${body.card.header.title.content}\n${body.card.elements[0]!.text!.content}`;
        assertBilingual(text, ALL_KINDS[i]!);
        assert.equal(body.card.elements.find((e) => e.tag === 'action')?.actions?.[0]?.url, MONTH_URL);
      });
    });

    it('is refused with a wrong secret (code 19021); the month link is never posted', async () => {
      const failure = await send(
        { lark: { kind: 'feishu', url: admin.robotUrl('feishu', token), secret: 'not-the-secret' } },
        request('lark', 'confirmed'),
      );
      assert.equal(failure?.type, NotificationFailureType.Rejected);
      assert.match(failure!.message, /\(feishu\) refused the notice: code 19021 sign match fail/);
      assert.equal((await admin.robotMessages({ platform: 'feishu', token })).length, ALL_KINDS.length);
    });

    it('the bot refuses a body over 20 KB (code 9499)', async () => {
      const reply = await axios.post(admin.robotUrl('feishu', 'feishu-unsigned'), {
        msg_type: 'text',
        content: { text: 'x'.repeat(21 * 1024) },
      });
      assert.equal(reply.data.code, 9499);
    });
  });

  describe('e-mail over SMTP', () => {
    let smtp: LocalSmtp;
    before(async () => (smtp = await startLocalSmtp('vat-robot', 'smtp-password-1')));
    after(async () => smtp?.close());

    const channel = (password: string): ChannelEntry => ({
      kind: 'email',
      host: '127.0.0.1',
      port: smtp.port,
      secure: false,
      requireTls: false,
      user: 'vat-robot',
      password,
      from: '增值税勾选 VAT selection <vat@example.test>',
      to: ['finance@example.test', 'tax.manager@example.test'],
    });

    it('delivers each kind with a bilingual subject and body and the link to the month', async () => {
      for (const kind of ALL_KINDS) {
        assert.equal(await send({ mail: channel('smtp-password-1') }, request('mail', kind)), undefined, kind);
      }
      assert.equal(smtp.mails.length, ALL_KINDS.length);
      smtp.mails.forEach((mail, i) => {
        const kind = ALL_KINDS[i]!;
        const [zh, en] = HEADINGS[kind];
        assert.equal(mail.subject, `【${zh} ${en}】纳税人 Taxpayer ${TAX_NO} 所属期 period ${PERIOD}`);
        assertBilingual(mail.text ?? '', kind);
        assert.ok(mail.text?.includes(MONTH_URL), 'the text links the month');
        assert.ok(String(mail.html).includes(`href="${MONTH_URL}"`), 'the HTML links the month');
        const to = [mail.to].flat().flatMap((a) => a?.value.map((v) => v.address));
        assert.deepEqual(to, ['finance@example.test', 'tax.manager@example.test']);
      });
      assert.match(smtp.mails[0]!.text!, /可抵扣 12 张，金额 10000.00 元，税额 1300.00 元/);
    });

    it('a wrong SMTP password is a rejected notice that names neither password nor server', async () => {
      const before = smtp.mails.length;
      const failure = await send({ mail: channel('wrong-password') }, request('mail', 'confirmed'));
      assert.equal(failure?.type, NotificationFailureType.Rejected);
      assert.match(failure!.message, /^Notification channel "mail" \(email\) not sent: EAUTH/);
      assert.ok(!failure!.message.includes('wrong-password'));
      assert.equal(smtp.mails.length, before);
    });
  });

  it('sends a "failed" notice of a month that failed before approval (no deadline); asks for one where it is said', async () => {
    const channels = { lark: { kind: 'feishu', url: admin.robotUrl('feishu', 'feishu-early') } } as const;
    assert.equal(await send(channels, request('lark', 'failed', { approvalDeadline: '' })), undefined);
    assert.equal((await admin.robotMessages({ platform: 'feishu', token: 'feishu-early' })).length, 1);
    const refused = await send(channels, request('lark', 'reminder', { approvalDeadline: '' }));
    assert.equal(refused?.type, NotificationFailureType.InvalidRequest);
    assert.match(refused!.message, /approvalDeadline: a "reminder" notice needs the approval deadline/);
  });

  it('the JSON webhook of before carries the new kinds and the month link', async () => {
    assert.equal(await send({ hook: admin.webhookUrl('kinds') }, request('hook', 'confirmed')), undefined);
    const [got] = await admin.webhooks('kinds');
    assert.equal(got?.body.kind, 'confirmed');
    assert.equal(got?.body.monthUrl, MONTH_URL);
    assert.equal(got?.body.decidedBy, '王会计');
    assert.match(got!.body.text, /^【统计表已确认 Statistic confirmed】/);
    assert.equal(
      monthUrl('https://inbox.example.test', TAX_NO, PERIOD),
      `https://inbox.example.test/months/${TAX_NO}/${PERIOD}`,
    );
  });
});
