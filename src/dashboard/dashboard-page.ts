/**
 * The HTML shell of the dashboard: no content and no inline script or style (the CSP
 * forbids both); it loads uPlot, then the client's entry module, from the versioned
 * asset path. Every figure on the page comes from the /v1 API with the user's key.
 */
export function dashboardPage(assetBase: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>triage</title>
<link rel="icon" type="image/svg+xml" href="${assetBase}/favicon.svg">
<link rel="stylesheet" href="${assetBase}/vendor/uPlot.min.css">
<link rel="stylesheet" href="${assetBase}/dashboard.css">
<script defer src="${assetBase}/vendor/uPlot.iife.min.js"></script>
<script type="module" src="${assetBase}/app/main.js"></script>
</head>
<body>
<div id="root"><noscript><p class="noscript">The triage dashboard needs JavaScript.</p></noscript></div>
</body>
</html>
`;
}

/** Shown instead when the client has not been compiled. */
export function dashboardMissingPage(reason: string): string {
  const escaped = reason.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>triage</title></head>
<body><h1>The dashboard is not available</h1><p>${escaped}</p></body></html>
`;
}
