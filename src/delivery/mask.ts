/**
 * Destinations shown back to the user ("code sent to a***@example.com") and written to the log: enough to
 * recognise your own address, not enough to learn someone else's.
 */

export function maskEmail(address: string): string {
  const value = String(address ?? '').trim();
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return '***';
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  const first = Array.from(local)[0] ?? '';
  return `${first}***@${domain}`;
}

/**
 * Keeps the country code (best effort: calling codes are 1 to 3 digits; the common one- and two-digit
 * ones are recognised) and the last two digits: `+4915112345678` → `+49 *** *** 78`.
 */
export function maskPhone(number: string): string {
  const digits = String(number ?? '').replace(/[^\d]/g, '');
  if (digits.length < 7) return '***';
  const hasPlus = String(number).trim().startsWith('+');
  const last = digits.slice(-2);
  if (!hasPlus) return `*** *** ${last}`;
  const cc = countryCode(digits);
  return `+${cc} *** *** ${last}`;
}

const ONE_DIGIT = new Set(['1', '7']);
const TWO_DIGIT = new Set([
  '20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49',
  '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84',
  '86', '90', '91', '92', '93', '94', '95', '98',
]);

function countryCode(digits: string): string {
  if (ONE_DIGIT.has(digits.slice(0, 1))) return digits.slice(0, 1);
  if (TWO_DIGIT.has(digits.slice(0, 2))) return digits.slice(0, 2);
  return digits.slice(0, 3);
}

/** Masks an email address or a phone number, whichever `destination` looks like. */
export function maskDestination(destination: string): string {
  return String(destination ?? '').includes('@') ? maskEmail(destination) : maskPhone(destination);
}
