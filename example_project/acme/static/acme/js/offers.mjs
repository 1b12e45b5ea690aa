// Loaded on demand with import(): mapped by the import map, not preloaded.
import { formatPrice } from "./money.mjs";

export const offer = `Free shipping over ${formatPrice(5000)}`;
