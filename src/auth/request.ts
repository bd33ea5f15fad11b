/** Who is asking, for audit lines, throttling and localised messages. Entrances build it from the request. */
export interface RequestInfo {
  clientIp: string;
  requestId: string;
  /** The negotiated language for messages sent to the user. */
  lang: string;
  /** The browser's or app's device id (the signed `portcullis_device` cookie or a device token). */
  deviceId?: string | undefined;
  userAgent?: string | undefined;
}

/** A short human name for a device from its User-Agent (`Firefox on Linux`). */
export function describeDevice(userAgent: string | undefined): string {
  const ua = (userAgent ?? '').slice(0, 256);
  const browser = /Edg\//.test(ua) ? 'Edge' : /Chrome\//.test(ua) ? 'Chrome' : /Firefox\//.test(ua) ? 'Firefox' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}
