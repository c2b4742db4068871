/**
 * The robots' request signatures (docs/notification-channels.md, with the sources relied on).
 * DingTalk: sign = urlEncode(base64(HMAC-SHA256(key = secret, message = `${timestampMs}\n${secret}`))),
 * sent as `&timestamp=…&sign=…` on the URL. Feishu: sign = base64(HMAC-SHA256(key =
 * `${timestampSeconds}\n${secret}`, message = "")), sent as `timestamp` and `sign` in the body.
 */
import { createHmac } from 'node:crypto';

/** The DingTalk `sign` parameter before URL encoding. */
export function dingtalkSignature(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** The robot URL with `timestamp` and `sign` appended (URLSearchParams does the url-encoding). */
export function dingtalkSignedUrl(url: string, secret: string, timestampMs: number): string {
  const signed = new URL(url);
  signed.searchParams.set('timestamp', String(timestampMs));
  signed.searchParams.set('sign', dingtalkSignature(secret, timestampMs));
  return signed.toString();
}

/** The Feishu / Lark `sign` body field. */
export function feishuSignature(secret: string, timestampSeconds: number): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}
