/**
 * Builds a Temporal Client from Temporal's standard environment configuration
 * (@temporalio/envconfig, the same as the temporal CLI and the other SDKs; docs/deployment.md):
 *   TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE  a TOML file of profiles (default file
 *       ~/.config/temporalio/temporal.toml, profile `default`), each setting below overriding it
 *   TEMPORAL_ADDRESS   host:port, default 127.0.0.1:7233
 *   TEMPORAL_NAMESPACE default `default`
 *   TEMPORAL_API_KEY   API key (implies TLS)
 *   TEMPORAL_TLS       true/false: TLS on or off
 *   TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH  client certificate and key (mTLS)
 *   TEMPORAL_TLS_SERVER_CA_CERT_PATH  server root CA;  TEMPORAL_TLS_SERVER_NAME  server name override
 *   (the _DATA forms take the PEM itself);  TEMPORAL_GRPC_META_<NAME>  a gRPC header
 * and the project's earlier names, kept as aliases:
 *   TEMPORAL_TLS_CERT = TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_KEY = TEMPORAL_TLS_CLIENT_KEY_PATH,
 *   TEMPORAL_TLS_CA = TEMPORAL_TLS_SERVER_CA_CERT_PATH
 * and, ours alone: TEMPORAL_CONNECT_TIMEOUT_MS  how long to try to connect, default 5000.
 * A blank variable counts as unset (docker-compose passes unset ones as empty).
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import { dataConverterFromEnv } from '../security/payloadKeys.js';
import { clientTracingInterceptors, installTracingFromEnv } from './tracing.js';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { Client, Connection, type ConnectionOptions, type TLSConfig } from '@temporalio/client';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

export interface TemporalSettings {
  address: string;
  namespace: string;
  connectTimeoutMs: number;
  tls?: TLSConfig;
  apiKey?: string;
  /** gRPC headers (TEMPORAL_GRPC_META_*, a profile's grpc_meta). */
  metadata?: Record<string, string>;
}

/** A misconfiguration (e.g. an unreadable certificate file): the operator must fix the environment. */
export class TemporalConfigError extends Error {
  override name = 'TemporalConfigError';
}

/** The Temporal frontend did not answer. */
export class TemporalUnreachableError extends Error {
  override name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(
      `Cannot reach Temporal at ${address}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Is the server running? Start the stack with npm start (or set TEMPORAL_ADDRESS).',
      { cause },
    );
  }
}

/** Earlier names of this project → the standard names (docs/configuration.md). */
export const TEMPORAL_ENV_ALIASES = {
  TEMPORAL_TLS_CERT: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  TEMPORAL_TLS_CA: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
} as const;

/** The TEMPORAL_* variables without blanks, aliases turned into standard names; `named` tells who set what. */
function standardTemporalEnv(env: NodeJS.ProcessEnv): { vars: Record<string, string>; named: Map<string, string> } {
  const vars: Record<string, string> = {};
  const named = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    const text = value?.trim();
    if (text === undefined || text === '') continue;
    // The file's location and the user's config folder (default file) come from these too.
    if (name.startsWith('TEMPORAL_') || ['HOME', 'XDG_CONFIG_HOME', 'APPDATA'].includes(name)) {
      vars[name] = text;
      named.set(name, name);
    }
  }
  for (const [alias, standard] of Object.entries(TEMPORAL_ENV_ALIASES)) {
    const value = vars[alias];
    if (value === undefined) continue;
    if (vars[standard] !== undefined && vars[standard] !== value) {
      throw new TemporalConfigError(
        `${alias}=${value} and ${standard}=${vars[standard]} disagree: set one of them (${alias} is the earlier name of ${standard})`,
      );
    }
    vars[standard] = value;
    named.set(standard, alias);
    delete vars[alias];
  }
  return { vars, named };
}

/** The profile from the config file (if any) and the environment, with errors naming their source. */
function loadProfile(vars: Record<string, string>): ClientConfigProfile {
  const file = vars.TEMPORAL_CONFIG_FILE;
  if (file !== undefined && !existsSync(file)) {
    throw new TemporalConfigError(`TEMPORAL_CONFIG_FILE=${file}: the file does not exist`);
  }
  const tls = vars.TEMPORAL_TLS;
  if (tls !== undefined && !['true', 'false', '1', '0'].includes(tls.toLowerCase())) {
    throw new TemporalConfigError(`TEMPORAL_TLS=${tls}: must be true or false`);
  }
  if (tls !== undefined) vars.TEMPORAL_TLS = tls.toLowerCase();
  try {
    return loadClientConfigProfile({ overrideEnvVars: vars, configFileStrict: true });
  } catch (err) {
    const message = (err as Error).message;
    const where = file
      ? `TEMPORAL_CONFIG_FILE=${file}`
      : 'the Temporal config file (~/.config/temporalio/temporal.toml)';
    if (/^Profile '/.test(message)) {
      throw new TemporalConfigError(`TEMPORAL_PROFILE=${vars.TEMPORAL_PROFILE}: no such profile in ${where}`);
    }
    throw new TemporalConfigError(`${where}: ${message}`);
  }
}

function pem(source: ConfigDataSource | undefined, setting: string): Buffer | undefined {
  if (!source) return undefined;
  if ('data' in source) return Buffer.from(source.data);
  try {
    return readFileSync(source.path);
  } catch (err) {
    throw new TemporalConfigError(`${setting}=${source.path}: cannot read the file (${(err as Error).message})`);
  }
}

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/;

/** Reads the connection settings from `env` (default: process.env) and the config file it names. */
export function temporalSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const { vars, named } = standardTemporalEnv(env);
  // Which variable or profile key a setting came from (the standard variable when it is missing), for errors.
  const source = (standard: string, profileKey: string, present = true) =>
    named.get(standard) ?? (present ? `${profileKey} of profile ${vars.TEMPORAL_PROFILE ?? 'default'}` : standard);
  const timeoutText = vars.TEMPORAL_CONNECT_TIMEOUT_MS;
  const connectTimeoutMs = timeoutText ? Number(timeoutText) : 5000;
  if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw new TemporalConfigError(`TEMPORAL_CONNECT_TIMEOUT_MS=${timeoutText}: must be a positive integer`);
  }
  const profile = loadProfile(vars);

  const address = profile.address?.trim() || DEFAULT_TEMPORAL_ADDRESS;
  const port = ADDRESS.exec(address)?.[2];
  if (!port || Number(port) < 1 || Number(port) > 65535) {
    throw new TemporalConfigError(`${source('TEMPORAL_ADDRESS', 'address')}=${address}: must be host:port`);
  }
  const namespace = profile.namespace?.trim() || DEFAULT_TEMPORAL_NAMESPACE;
  const apiKey = profile.apiKey?.trim() || undefined;

  let tls: TLSConfig | undefined;
  const t = profile.tls;
  const tlsWanted = t ? !t.disabled : false;
  if (t?.disabled !== true && (tlsWanted || apiKey)) {
    const certSetting = source('TEMPORAL_TLS_CLIENT_CERT_PATH', 'tls.client_cert', Boolean(t?.clientCert));
    const keySetting = source('TEMPORAL_TLS_CLIENT_KEY_PATH', 'tls.client_key', Boolean(t?.clientKey));
    if (Boolean(t?.clientCert) !== Boolean(t?.clientKey)) {
      throw new TemporalConfigError(`${certSetting} and ${keySetting} must be set together`);
    }
    tls = {};
    const crt = pem(t?.clientCert, certSetting);
    const key = pem(t?.clientKey, keySetting);
    if (crt && key) tls.clientCertPair = { crt, key };
    const ca = pem(t?.serverCACert, source('TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'tls.server_ca_cert'));
    if (ca) tls.serverRootCACertificate = ca;
    if (t?.serverName) tls.serverNameOverride = t.serverName;
  }
  const metadata = profile.grpcMeta && Object.keys(profile.grpcMeta).length > 0 ? profile.grpcMeta : undefined;
  return {
    address,
    namespace,
    connectTimeoutMs,
    ...(tls ? { tls } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(metadata ? { metadata } : {}),
  };
}

export function connectionOptions(settings: TemporalSettings): ConnectionOptions {
  return {
    address: settings.address,
    connectTimeout: settings.connectTimeoutMs,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
    ...(settings.metadata ? { metadata: settings.metadata } : {}),
  };
}

/** The same settings for a worker's NativeConnection. */
export function nativeConnectionOptions(settings: TemporalSettings): NativeConnectionOptions {
  return {
    address: settings.address,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
    ...(settings.metadata ? { metadata: settings.metadata } : {}),
  };
}

/** Connects to the frontend; a TemporalUnreachableError when it does not answer. */
export async function connectTemporal(settings: TemporalSettings = temporalSettingsFromEnv()): Promise<Connection> {
  try {
    return await Connection.connect(connectionOptions(settings));
  } catch (err) {
    throw new TemporalUnreachableError(settings.address, err);
  }
}

/**
 * A Client for the environment's Temporal (override any setting with `overrides`).
 * Close it with `client.connection.close()`.
 */
export async function createTemporalClient(overrides: Partial<TemporalSettings> = {}): Promise<Client> {
  const settings = { ...temporalSettingsFromEnv(), ...overrides };
  const connection = await connectTemporal(settings);
  // OTEL_EXPORTER_OTLP_ENDPOINT: the client's calls start traces (runtime/tracing.ts).
  installTracingFromEnv('vat-deduction-client');
  return new Client({
    connection,
    namespace: settings.namespace,
    dataConverter: dataConverterFromEnv(),
    interceptors: { workflow: clientTracingInterceptors() },
  });
}
