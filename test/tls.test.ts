import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { NativeConnection } from '@temporalio/worker';
import { runCli } from '../client/cli.js';
import { nativeConnectionOptions, temporalSettingsFromEnv } from '../runtime/temporalConnection.js';
import { startDevServer, type DevServer } from '../scripts/devServer.js';

/**
 * The CLI and the worker reach Temporal over TLS when TEMPORAL_TLS_* is set. The dev server speaks
 * plain gRPC, so a TLS terminator (HTTP/2 over TLS, like a cloud endpoint) stands in front of it.
 */
describe('TLS to Temporal when configured', function () {
  this.timeout(120_000);
  let temporal: DevServer;
  let proxy: TlsServer;
  let dir: string;
  let tlsAddress: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vat-tls-'));
    // A throwaway CA and a server certificate it signs (rustls refuses a CA used as the server's).
    const openssl = (args: string) => execFileSync('openssl', args.split(' '), { cwd: dir, stdio: 'ignore' });
    openssl('req -x509 -newkey rsa:2048 -nodes -days 1 -keyout ca.key -out ca.pem -subj /CN=test-ca');
    openssl('req -newkey rsa:2048 -nodes -keyout key.pem -out server.csr -subj /CN=temporal.test');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:temporal.test\nbasicConstraints=CA:FALSE\n');
    openssl('x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 1 -extfile ext.cnf');
    temporal = await startDevServer({ headless: true });
    const [host, port] = temporal.address.split(':');
    proxy = createTlsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')), ALPNProtocols: ['h2'] },
      (socket) => {
        const upstream = netConnect(Number(port), host);
        socket.pipe(upstream).pipe(socket);
        const close = () => {
          socket.destroy();
          upstream.destroy();
        };
        socket.on('error', close);
        upstream.on('error', close);
      },
    );
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    tlsAddress = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => proxy?.close(r));
    await temporal?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const tlsEnv = () => ({
    TEMPORAL_ADDRESS: tlsAddress,
    TEMPORAL_TLS_CA: join(dir, 'ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
    TEMPORAL_CONNECT_TIMEOUT_MS: '3000',
  });

  async function cliList(env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
    let stderr = '';
    const code = await runCli(['node', 'cli', 'list', '--json'], {
      env,
      out: () => undefined,
      err: (t) => (stderr += t),
    });
    return { code, stderr };
  }

  it('the CLI connects through TLS with the configured CA and server name', async () => {
    const { code, stderr } = await cliList(tlsEnv());
    assert.equal(code, 0, stderr);
  });

  it('the CLI cannot reach the TLS endpoint without the TLS settings (exit 3)', async () => {
    const { code } = await cliList({ TEMPORAL_ADDRESS: tlsAddress, TEMPORAL_CONNECT_TIMEOUT_MS: '2000' });
    assert.equal(code, 3);
  });

  it('the worker connection uses the same TLS settings', async () => {
    const connection = await NativeConnection.connect(nativeConnectionOptions(temporalSettingsFromEnv(tlsEnv())));
    const info = await connection.workflowService.getSystemInfo({});
    assert.ok(info.serverVersion, 'the server answered over TLS');
    await connection.close();
    await assert.rejects(
      NativeConnection.connect(nativeConnectionOptions(temporalSettingsFromEnv({ TEMPORAL_ADDRESS: tlsAddress }))),
    );
  });
});
