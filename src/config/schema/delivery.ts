import { z } from 'zod';
import { duration, httpUrl } from './common.js';

export const deliverySchema = z
  .strictObject({
    email: z
      .strictObject({
        transport: z.enum(['smtp', 'console']).default('console'),
        smtp: z
          .strictObject({
            host: z.string().min(1),
            port: z.number().int().min(1).max(65535).default(587),
            /** true: TLS from the first byte (465); false: STARTTLS when offered. */
            secure: z.boolean().default(false),
            require_tls: z.boolean().default(false),
            user: z.string().optional(),
            password: z.string().optional(),
            timeout: duration().prefault('10s'),
            pool: z.boolean().default(true),
            tls: z.strictObject({ ca_file: z.string().optional(), reject_unauthorized: z.boolean().default(true) }).prefault({}),
          })
          .optional(),
        from: z.string().min(3).default('Portcullis <no-reply@localhost>'),
        /** Folder with operator templates overriding the built-in ones (`code.txt`, `code.html`, ...). */
        templates_dir: z.string().optional(),
      })
      .refine((e) => e.transport !== 'smtp' || e.smtp !== undefined, { message: "transport 'smtp' needs an smtp section", path: ['smtp'] })
      .prefault({}),
    sms: z
      .strictObject({
        provider: z.enum(['twilio', 'console']).default('console'),
        twilio: z
          .strictObject({
            account_sid: z.string().min(1),
            auth_token: z.string().min(1),
            from: z.string().optional(),
            messaging_service_sid: z.string().optional(),
            api_base_url: httpUrl().optional(),
            timeout: duration().prefault('10s'),
          })
          .refine((t) => t.from !== undefined || t.messaging_service_sid !== undefined, { message: 'set from or messaging_service_sid' })
          .optional(),
        fallback_to_email: z.boolean().default(true),
      })
      .refine((s) => s.provider !== 'twilio' || s.twilio !== undefined, { message: "provider 'twilio' needs a twilio section", path: ['twilio'] })
      .prefault({}),
  })
  .prefault({});
