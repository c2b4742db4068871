import { type ParsedMail, simpleParser } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface LocalSmtp {
  port: number;
  /** Every message the server accepted, parsed, oldest first. */
  mails: ParsedMail[];
  close(): Promise<void>;
}

/**
 * A local SMTP server for tests of e-mail notices (smtp-server + mailparser): on loopback, with
 * AUTH (PLAIN/LOGIN) checked against `user` / `password`, no TLS (STARTTLS off, so plain AUTH is
 * allowed on loopback only).
 */
export async function startLocalSmtp(user: string, password: string): Promise<LocalSmtp> {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) return callback(null, { user });
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push(mail);
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
