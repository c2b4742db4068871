/**
 * Drives the inbox through Fastify's inject like a browser would: keeps the cookies, reads the
 * CSRF token from the last page, and sends the inbox's own Origin with every POST.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { hashPassword, writeAccountsFile } from '../../inbox/accounts.js';
import type { InboxAccount, LockoutPolicy } from '../../config/inboxAccountsSchema.js';

/** inject's default Host header is localhost:80: the inbox expects this Origin (default port dropped). */
export const INBOX_ORIGIN = 'http://localhost';

export const PASSWORDS: Record<string, string> = {
  wang: 'wang-correct-horse-1',
  li: 'li-battery-staple-22',
  zhao: 'zhao-disabled-333333',
};

let hashes: Promise<Record<string, string>> | undefined;
/** argon2id hashes of PASSWORDS, computed once per test run. */
function passwordHashes(): Promise<Record<string, string>> {
  hashes ??= (async () => {
    const out: Record<string, string> = {};
    for (const [id, password] of Object.entries(PASSWORDS)) out[id] = await hashPassword(password);
    return out;
  })();
  return hashes;
}

/**
 * A fresh accounts file: wang (王会计) and li (李经理) active, zhao disabled. Returns its path.
 */
export async function writeTestAccounts(lockout: LockoutPolicy = { maxFailedAttempts: 3, lockMinutes: 15 }) {
  const h = await passwordHashes();
  const accounts: InboxAccount[] = [
    { id: 'wang', name: '王会计', passwordHash: h.wang!, disabled: false },
    { id: 'li', name: '李经理', passwordHash: h.li!, disabled: false },
    { id: 'zhao', name: '赵出纳', passwordHash: h.zhao!, disabled: true },
  ];
  const file = join(mkdtempSync(join(tmpdir(), 'inbox-accounts-')), 'inbox-accounts.json');
  writeAccountsFile(file, { lockout, accounts });
  return file;
}

export class InboxBrowser {
  readonly cookies = new Map<string, string>();
  lastPage = '';

  constructor(
    private readonly app: FastifyInstance,
    /** The Origin header of every POST; null sends none. */
    private readonly origin: string | null = INBOX_ORIGIN,
  ) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(response: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of response.cookies as { name: string; value: string; expires?: Date; maxAge?: number }[]) {
      const gone = c.value === '' || (c.expires && c.expires.getTime() <= Date.now()) || c.maxAge === 0;
      if (gone) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    if (String(response.headers['content-type'] ?? '').startsWith('text/html')) this.lastPage = response.body;
    return response;
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.keep(
      await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader(), accept: 'text/html' } }),
    );
  }

  /** The CSRF token of the last HTML page (every form carries the same one). */
  csrf(): string {
    const match = /name="_csrf" value="([^"]+)"/.exec(this.lastPage);
    if (!match) throw new Error(`no CSRF token on the last page:\n${this.lastPage.slice(0, 500)}`);
    return match[1]!;
  }

  async post(
    url: string,
    fields: Record<string, string>,
    opts: { csrf?: boolean; headers?: Record<string, string> } = {},
  ): Promise<LightMyRequestResponse> {
    const body = opts.csrf === false ? fields : { _csrf: this.csrf(), ...fields };
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'text/html',
          cookie: this.cookieHeader(),
          ...(this.origin ? { origin: this.origin } : {}),
          ...opts.headers,
        },
        payload: new URLSearchParams(body).toString(),
      }),
    );
  }

  /** Logs in with a built-in account through the login page; returns the POST's response. */
  async login(account: string, password = PASSWORDS[account] ?? ''): Promise<LightMyRequestResponse> {
    await this.get('/login');
    return this.post('/login', { account, password });
  }

  /**
   * Posts a decision form from the inbox page (loading the page first, as a person would), follows the
   * redirect and returns the message or error the page then shows.
   */
  async decide(
    path: '/approve' | '/reject',
    fields: Record<string, string>,
  ): Promise<{ message?: string; error?: string }> {
    const before = await this.get('/');
    if (before.statusCode !== 200) throw new Error(`the inbox page answered ${before.statusCode}: ${before.body}`);
    const response = await this.post(path, fields);
    if (response.statusCode !== 303 || response.headers.location !== '/') {
      throw new Error(
        `expected a redirect to /, got ${response.statusCode} ${response.headers.location}: ${response.body}`,
      );
    }
    const page = await this.get('/');
    return shownNotices(page.body);
  }
}

const unescape = (html: string) =>
  html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

/** The message and error paragraphs of an inbox page, unescaped. */
export function shownNotices(html: string): { message?: string; error?: string } {
  const message = /<p class="message">([^<]*)<\/p>/.exec(html)?.[1];
  const error = /<p class="error">([^<]*)<\/p>/.exec(html)?.[1];
  return {
    ...(message !== undefined ? { message: unescape(message) } : {}),
    ...(error !== undefined ? { error: unescape(error) } : {}),
  };
}
