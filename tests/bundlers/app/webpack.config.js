// Built by tests/bundlers: a standard webpack 5 setup for django-webpack-loader. BUNDLE_OUT_DIR
// is output.path, BUNDLE_STATS_DIR where webpack-bundle-tracker writes webpack-stats.json;
// BUNDLE_MANIFEST=true adds webpack-manifest-plugin's manifest.json.
const MiniCssExtractPlugin = require("mini-css-extract-plugin");
const BundleTracker = require("webpack-bundle-tracker");
const { WebpackManifestPlugin } = require("webpack-manifest-plugin");

module.exports = {
  mode: "production",
  context: __dirname,
  entry: { main: "./webpack/entry.js" },
  output: {
    path: process.env.BUNDLE_OUT_DIR,
    filename: "[name].[contenthash].js",
    chunkFilename: "[name].[contenthash].js",
    assetModuleFilename: "assets/[name].[contenthash][ext]",
    clean: true,
  },
  module: {
    rules: [
      { test: /\.css$/, use: [MiniCssExtractPlugin.loader, "css-loader"] },
      { test: /\.(png|svg|woff2)$/, type: "asset/resource" },
    ],
  },
  plugins: [
    new MiniCssExtractPlugin({ filename: "[name].[contenthash].css" }),
    new BundleTracker({ path: process.env.BUNDLE_STATS_DIR, filename: "webpack-stats.json" }),
    ...(process.env.BUNDLE_MANIFEST === "true" ? [new WebpackManifestPlugin()] : []),
  ],
};
