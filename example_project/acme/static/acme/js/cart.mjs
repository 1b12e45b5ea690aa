import { formatPrice } from "./money.mjs";

export function cartTotal(items) {
    return formatPrice(items.reduce((sum, item) => sum + item.cents, 0));
}
