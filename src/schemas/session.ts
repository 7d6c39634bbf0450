import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Timestamp, Uuid } from './common.js';

export const DEVICE_TYPES = ['desktop', 'mobile', 'tablet'] as const;
export const OPERATING_SYSTEMS = ['Windows', 'macOS', 'Linux', 'ChromeOS', 'iOS', 'iPadOS', 'Android'] as const;
export const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Edge', 'Samsung Internet', 'Opera'] as const;

/**
 * A visit to the web shop. Sessions 0..orders-1 are the checkout sessions of orders 0..orders-1
 * (logged in as the customer, ending just after the order); the rest are browsing sessions.
 *
 * @example
 * { "session_id": "…", "user_id": "…", "order_id": null, "device_type": "mobile", "os": "iOS", "browser": "Safari",
 *   "started_at": "2025-03-15T19:02:11Z", "ended_at": "2025-03-15T19:09:40Z", "duration_seconds": 449, "page_views": 6, … }
 */
export const SessionSchema = Type.Object(
  {
    session_id: Uuid('Primary key'),
    user_id: Nullable(Uuid('The logged-in customer (signed up before the session started); null for a guest')),
    order_id: Nullable(Uuid('The order placed in this session (a checkout session); null for a browsing session')),
    device_type: OneOf(DEVICE_TYPES, 'Device class'),
    os: OneOf(OPERATING_SYSTEMS, 'Operating system'),
    browser: OneOf(BROWSERS, 'Browser'),
    user_agent: Type.String({
      description: 'User-Agent header, consistent with device_type, os and browser',
      examples: ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1'],
    }),
    ip_address: Type.String({ format: 'ipv4', description: 'Public IPv4 address (a logged-in customer often returns from the same home address)', examples: ['81.174.23.140'] }),
    country: Type.String({ description: 'ISO 3166-1 alpha-2 country of the visitor (the locale country)', examples: ['GB'] }),
    city: Type.String({ description: "Visitor's city (for a customer usually their home city)", examples: ['Leeds'] }),
    started_at: Timestamp('First event of the session, inside the date window'),
    ended_at: Timestamp('End of the session (after its last event), inside the date window'),
    duration_seconds: Type.Integer({ minimum: 1, description: 'ended_at - started_at in seconds', examples: [449] }),
    page_views: Type.Integer({ minimum: 1, description: 'Number of PAGE_VIEW and PRODUCT_VIEW events of the session in /clickstream', examples: [6] }),
    event_count: Type.Integer({ minimum: 1, description: 'Number of events of the session in /clickstream', examples: [9] }),
    landing_page: Type.String({ description: 'page_url of the first event', examples: ['/c/electronics-headphones'] }),
    referrer: Nullable(Type.String({ description: 'Referring site; null for direct and e-mail visits', examples: ['https://www.google.com/'] })),
    utm_source: Nullable(Type.String({ description: 'Campaign source of paid, social, e-mail and affiliate visits', examples: ['newsletter'] })),
    utm_medium: Nullable(Type.String({ description: 'Campaign medium: cpc, social, email, affiliate', examples: ['email'] })),
    utm_campaign: Nullable(Type.String({ description: 'Campaign name', examples: ['spring_sale'] })),
    converted: Type.Boolean({ description: 'True iff an order was placed in the session (order_id is set)' }),
  },
  { $id: 'Session', additionalProperties: false, description: 'A web or app session' },
);
export type Session = Static<typeof SessionSchema>;
