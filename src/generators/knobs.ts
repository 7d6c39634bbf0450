import { Rng, tagOf } from './random.js';
import type { World } from './world.js';

const PAYMENT = tagOf('knob:payment');
const SHIPMENT = tagOf('knob:shipment');
// One stream for the draws below: they are synchronous and keyed afresh on every call.
const rng = new Rng();

/**
 * Whether order i gets a payment (`payment_ratio`, default 1: every order). A pure function of
 * (seed, order) from its own stream, so the rest of the order's draws do not move; an order
 * without one stays pending (an abandoned checkout): no payment, no cancellation, no shipment.
 */
export function orderPays(world: World, order: number): boolean {
  const ratio = world.knob('payment_ratio');
  return ratio >= 1 || rng.key(world.seed, PAYMENT, order).next() < ratio;
}

/**
 * Whether a paid order that is not cancelled is shipped (`shipment_ratio`, default 1). One that
 * is not stays processing (paid, never dispatched): no shipment, no stock SALE, no delivery.
 */
export function orderShips(world: World, order: number): boolean {
  const ratio = world.knob('shipment_ratio');
  return ratio >= 1 || rng.key(world.seed, SHIPMENT, order).next() < ratio;
}
