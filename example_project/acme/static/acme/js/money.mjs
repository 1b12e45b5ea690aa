// The shared leaf: imported by shop.mjs and cart.mjs by its plain name. The import map sends
// both to its hashed URL, so an edit here gives this file alone a new name.
export function formatPrice(cents) {
    return `$${(cents / 100).toFixed(2)}`;
}
