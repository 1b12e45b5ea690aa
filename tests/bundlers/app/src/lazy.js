import "./lazy.css";
import { count } from "./shared.js";

count("lazy");

export function greet() {
  return "lazy loaded";
}
