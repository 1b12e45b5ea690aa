// The shop's entry module. It imports its dependencies by plain names, as written; the page's
// import map resolves each to its hashed, immutable URL, and {% modulepreload %} fetches them
// alongside this file instead of one after another.
import { cartTotal } from "./cart.mjs";
import { formatPrice } from "./money.mjs";

const status = document.getElementById("cart-status");
const total = cartTotal([{ cents: 1250 }, { cents: 799 }]);
const { offer } = await import("./offers.mjs");
status.textContent = `Cart total ${total} (one item at ${formatPrice(799)}). ${offer}.`;
document.documentElement.dataset.moneyModule = new URL("./money.mjs", import.meta.url).href;
status.dataset.state = "ready";
