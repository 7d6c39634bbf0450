import { Type, type Static } from '@sinclair/typebox';
import { Uuid } from './common.js';

/**
 * A marketing segment; every user belongs to exactly one (users.segment_id).
 *
 * @example
 * { "segment_id": "…", "code": "vip", "name": "VIP", "rule": "expected yearly orders at least 3x the average", … }
 */
export const CustomerSegmentSchema = Type.Object(
  {
    segment_id: Uuid('Primary key'),
    code: Type.String({ description: 'Stable short code, unique', examples: ['vip'] }),
    name: Type.String({ examples: ['VIP'] }),
    description: Type.String(),
    rule: Type.String({ description: 'How users are assigned to the segment' }),
    perk_discount_rate: Type.Number({ minimum: 0, maximum: 1, description: 'Loyalty discount offered to the segment, as a fraction', examples: [0.1] }),
    priority: Type.Integer({ minimum: 1, description: '1 = most valuable' }),
  },
  { $id: 'CustomerSegment', additionalProperties: false, description: 'A customer segment' },
);
export type CustomerSegment = Static<typeof CustomerSegmentSchema>;
