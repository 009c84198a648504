/**
 * uPlot is loaded by the page as a classic script (node_modules/uplot/dist/uPlot.iife.min.js,
 * served by triage) before the dashboard's modules run, and defines this global.
 */
declare global {
  const uPlot: typeof import('uplot');
}

export {};
