// The page's entry module. The build rewrites "./greeting.js" to its hashed name, so this file
// and the module it imports are cached together, forever, and change together.
import { markReady } from "./greeting.js";

markReady(document.getElementById("module-status"));
