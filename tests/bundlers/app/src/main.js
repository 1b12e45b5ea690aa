// Entry: counts its own evaluations, so a second module instance shows up in the test.
import "./style.css";
import { count, record } from "./shared.js";

count("main");
const logo = new URL("./logo.svg", import.meta.url).href;
fetch(logo).then((response) => record("logo", response.status));

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
worker.onmessage = (event) => record("worker", event.data);
worker.postMessage("ping");

import("./lazy.js").then((lazy) => record("lazy", lazy.greet()));
