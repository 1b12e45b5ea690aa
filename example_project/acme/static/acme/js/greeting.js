// Imported by app.js. It records the URL it was loaded from, which shows whether the browser
// fetched the hashed name the build wrote into app.js.
document.documentElement.dataset.greetingModule = import.meta.url;

export function markReady(element) {
    element.textContent = `The ES module ran, loaded from ${new URL(import.meta.url).pathname}.`;
    element.dataset.state = "ready";
}
