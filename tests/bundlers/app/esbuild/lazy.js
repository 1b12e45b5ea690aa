import { count } from "../src/shared.js";

count("lazy");

export function greet() {
  return "lazy loaded";
}
