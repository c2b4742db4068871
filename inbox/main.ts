/**
 * Runs the approvers' inbox: INBOX_HOST (default 127.0.0.1), INBOX_PORT (default 8088),
 * TAXPAYER_REGISTRY for names and approvers, INBOX_ACCOUNTS_FILE, INBOX_PUBLIC_URL, INBOX_OIDC_*
 * (docs/inbox-security.md), INBOX_SIGNING_KEY_FILE and INBOX_SIGNING_KEY_ID (docs/decision-signing.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { DecisionSigner } from '../client/deductions.js';
import { createTemporalClient } from '../runtime/temporalConnection.js';
import { decisionSigningKey } from '../security/decisionSigning.js';
import { createLogger } from '../runtime/logging.js';
import { AccountStore } from './accounts.js';
import { buildInbox } from './server.js';
import { inboxSettingsFromEnv } from './settings.js';
import { registryDirectory } from './taxpayers.js';

const logger = createLogger('inbox');

try {
  const settings = inboxSettingsFromEnv();
  const accounts = new AccountStore(settings.accountsFile).current();
  if (accounts.accounts.length === 0 && !settings.oidc) {
    logger.warn(
      { accountsFile: settings.accountsFile },
      'No inbox account and no OpenID Connect: nobody can log in. Add one with: npm run cli -- inbox-account add --id <id> --name <name>',
    );
  }
  if (!existsSync(settings.registryFile)) {
    logger.warn(
      { registryFile: settings.registryFile },
      'No taxpayer registry: no one is an approver, every month is read-only',
    );
  }
  const taxpayers = registryDirectory(settings.registryFile, (err) =>
    logger.error(
      { err, registryFile: settings.registryFile },
      'The registry changed and is invalid: the last good version stays in use',
    ),
  );
  taxpayers();
  let signer: DecisionSigner | undefined;
  if (settings.signing) {
    const { keyFile, keyId } = settings.signing;
    // Read and checked now, so a missing or wrong key stops the inbox instead of every decision.
    signer = { privateKey: decisionSigningKey(readFileSync(keyFile, 'utf8')), keyId };
  }
  const client = await createTemporalClient();
  const app = await buildInbox({
    client,
    taxpayers,
    security: settings,
    ...(signer ? { signer } : {}),
    logger: logger.child({ component: 'http' }),
  });
  await app.listen({ port: settings.port, host: settings.host });
  logger.info(
    {
      url: settings.publicUrl?.href ?? `http://${settings.host}:${settings.port}/`,
      accounts: accounts.accounts.length,
      oidc: settings.oidc?.issuer.href ?? 'off',
      signingKeyId: signer?.keyId ?? 'none (unsigned decisions)',
    },
    'Approvers inbox listening',
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void app.close().then(() => client.connection.close());
    });
  }
} catch (error) {
  logger.error({ err: error }, 'Inbox failed to start');
  process.exitCode = 1;
}
