// webpack entry: extracted CSS (an asset-module image and a font), an asset-module image
// imported here, and a lazy chunk with CSS of its own.
import "./style.css";
import logo from "../src/logo.svg";
import { count, record } from "../src/shared.js";

count("main");
fetch(logo).then((response) => record("logo", response.status));
import(/* webpackChunkName: "lazy" */ "../src/lazy.js").then((lazy) =>
  record("lazy", lazy.greet()),
);
