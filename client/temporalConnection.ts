/**
 * Builds a Temporal Client from the environment (DESIGN.md §6):
 *   TEMPORAL_ADDRESS   host:port, default 127.0.0.1:7233
 *   TEMPORAL_NAMESPACE default `default`
 *   TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY  client certificate and key (PEM file paths, mTLS)
 *   TEMPORAL_TLS_CA    server root CA (PEM file path)
 *   TEMPORAL_TLS_SERVER_NAME  TLS server name override
 *   TEMPORAL_API_KEY   API key (implies TLS)
 *   TEMPORAL_CONNECT_TIMEOUT_MS  how long to try to connect, default 5000
 */
import { readFileSync } from 'node:fs';
import { dataConverterFromEnv } from '../security/payloadKeys.js';
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

function readPem(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TemporalConfigError(`${variable}=${file}: cannot read the file (${(err as Error).message})`);
  }
}

/** Reads the connection settings from `env` (default: process.env). */
export function temporalSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const address = env.TEMPORAL_ADDRESS?.trim() || DEFAULT_TEMPORAL_ADDRESS;
  const namespace = env.TEMPORAL_NAMESPACE?.trim() || DEFAULT_TEMPORAL_NAMESPACE;
  const timeoutText = env.TEMPORAL_CONNECT_TIMEOUT_MS?.trim();
  const connectTimeoutMs = timeoutText ? Number(timeoutText) : 5000;
  if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw new TemporalConfigError(`TEMPORAL_CONNECT_TIMEOUT_MS=${timeoutText}: must be a positive integer`);
  }
  const cert = env.TEMPORAL_TLS_CERT?.trim();
  const key = env.TEMPORAL_TLS_KEY?.trim();
  const ca = env.TEMPORAL_TLS_CA?.trim();
  const serverName = env.TEMPORAL_TLS_SERVER_NAME?.trim();
  const apiKey = env.TEMPORAL_API_KEY?.trim() || undefined;
  if (Boolean(cert) !== Boolean(key)) {
    throw new TemporalConfigError('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together');
  }
  let tls: TLSConfig | undefined;
  if (cert || ca || apiKey || serverName) {
    tls = {};
    if (cert && key)
      tls.clientCertPair = { crt: readPem('TEMPORAL_TLS_CERT', cert), key: readPem('TEMPORAL_TLS_KEY', key) };
    if (ca) tls.serverRootCACertificate = readPem('TEMPORAL_TLS_CA', ca);
    if (serverName) tls.serverNameOverride = serverName;
  }
  return { address, namespace, connectTimeoutMs, tls, apiKey };
}

export function connectionOptions(settings: TemporalSettings): ConnectionOptions {
  return {
    address: settings.address,
    connectTimeout: settings.connectTimeoutMs,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  };
}

/** The same settings for a worker's NativeConnection. */
export function nativeConnectionOptions(settings: TemporalSettings): NativeConnectionOptions {
  return {
    address: settings.address,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
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
  return new Client({ connection, namespace: settings.namespace, dataConverter: dataConverterFromEnv() });
}
