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

/**
 * A short human name for a device from its User-Agent: `Firefox on Linux` for a browser; for an app
 * (a JSON API client) its own product token, `VMSMobile/2.4 on iOS`; `Unknown device` without one.
 */
export function describeDevice(userAgent: string | undefined): string {
  const ua = (userAgent ?? '').slice(0, 256);
  const browser = /Edg\//.test(ua) ? 'Edge' : /Chrome\//.test(ua) ? 'Chrome' : /Firefox\//.test(ua) ? 'Firefox' : /Safari\//.test(ua) ? 'Safari' : undefined;
  const os = /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad|iOS/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  // Not a browser: the client's first product token (`okhttp/4.12.0`, `VMSMobile/2.4`), printable only.
  const product = /^[\x21-\x7e]{1,48}/.exec(ua.trim())?.[0];
  const name = browser ?? (product && !/^Mozilla\//.test(product) ? product : undefined);
  if (!name) return os ? `Browser on ${os}` : 'Unknown device';
  return os ? `${name} on ${os}` : name;
}
