/** The state the sandbox's chat-robot receivers share (./chatRobots.ts), and their helpers. */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';

export const RobotPlatform = z.enum(['wecom', 'dingtalk', 'feishu']);
export type RobotPlatform = z.infer<typeof RobotPlatform>;

export interface RobotMessage {
  platform: RobotPlatform;
  /** WeCom's `key`, DingTalk's `access_token`, Feishu's hook token. */
  token: string;
  /** Whether the request carried a signature that checked out. */
  signed: boolean;
  receivedAt: string;
  body: unknown;
}

export class RobotDesk {
  private readonly secrets = new Map<string, string>();
  readonly received: RobotMessage[] = [];
  /** The platforms' clock for the signature window: the real one, as the sender signs with it. */
  constructor(readonly now: () => number = Date.now) {}

  secretOf(platform: RobotPlatform, token: string): string | undefined {
    return this.secrets.get(`${platform}\u0000${token}`);
  }
  setSecret(platform: RobotPlatform, token: string, secret: string | null): void {
    if (secret === null) this.secrets.delete(`${platform}\u0000${token}`);
    else this.secrets.set(`${platform}\u0000${token}`, secret);
  }
  accept(platform: RobotPlatform, token: string, signed: boolean, body: unknown): void {
    this.received.push({ platform, token, signed, receivedAt: new Date().toISOString(), body });
  }
}

/** The request's size in bytes as it came over the wire (the platforms' limits are on that). */
export function requestBytes(request: FastifyRequest): number {
  const header = Number(request.headers['content-length']);
  return Number.isFinite(header) && header > 0 ? header : Buffer.byteLength(JSON.stringify(request.body ?? ''));
}
